// Package torchpth loads PyTorch state dicts saved with torch.save (.pth and
// .pt files) without Python and without executing anything from the file.
//
// # Formats
//
// Two layouts are read:
//
//   - the zip format written by torch.save since PyTorch 1.6: an archive
//     holding ARCHIVE/data.pkl (the pickled object) and ARCHIVE/data/KEY
//     (one raw little-endian record per storage);
//   - the legacy format (torch.save(..., _use_new_zipfile_serialization=False)):
//     consecutive pickles of a magic number, the protocol version, system
//     information, the object and the storage keys, followed by each storage
//     as an 8-byte element count and its raw data.
//
// TorchScript archives (torch.jit.save) and the tar-based format of PyTorch
// before 0.4 are rejected with an error.
//
// # Safety
//
// Pickles are decoded by github.com/nlpodyssey/gopickle with an allow-list of
// globals: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and the torch.*Storage classes. Each maps
// to a Go value built here; a pickle naming any other global is an error, and
// nothing is executed. Before gopickle sees a pickle, its opcodes are scanned
// so that no length argument exceeds the input (gopickle allocates lengths
// before reading them); after, the object is walked and anything other than
// plain data and tensors is rejected. Storage sizes are checked against the
// bytes present, and views (offset, shape, stride) against their storage.
//
// # Result
//
// Parse and ReadFile return a StateDict: tensor names in saved order, each
// tensor converted to contiguous float32 in row-major order, integer tensors
// (such as batch norm's num_batches_tracked) also kept exactly in Ints. The
// saved object may be a state dict or a dict wrapping one under
// "state_dict", "model" or "model_state_dict" (other entries, such as an
// epoch counter or optimizer state, are ignored after the safety walk).
// StateDict.CheckFinite reports NaN and Inf values.
package torchpth
