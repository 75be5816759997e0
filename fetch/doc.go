// Package fetch downloads the published GoogLeNet weight files (and any
// other file given by URL and SHA-256) with the guarantees a user of
// `googlenet fetch` expects: the hash pinned and verified, a progress
// callback, resume of a partial download with an HTTP Range request, and the
// bytes written to NAME.partial and renamed to NAME only after the hash
// matches, so that a file under its final name is always the published one.
//
// # Sources
//
//   - torchvision: https://download.pytorch.org/models/googlenet-1378be20.pth.
//     torchvision publishes the first 8 hex digits of the SHA-256 in the file
//     name, which is what torch.hub checks; Fetch checks the same prefix.
//   - zoo: the ONNX model zoo's googlenet-7.onnx (opset 7), SHA-256
//     5725ccfd...9c9de8 and 28,020,232 bytes from the repository's Git LFS
//     pointer.
//   - caffe: http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel,
//     with the SHA-1 that Caffe's models/bvlc_googlenet/readme.md publishes.
//
// Fetch reports every file's full SHA-256 (Result.SHA256) so that a mirror
// can be pinned with URLSource.
//
// # Where files go
//
// Options.Dir, else CacheDir(): GOOGLENET_CACHE, else googlenet/weights
// under the user's cache directory (os.UserCacheDir). Without a network the
// error names the URL to download by hand, the hash to check and the path to
// put the file at; Fetch then finds it there and verifies it.
package fetch
