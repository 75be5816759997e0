// Package peer finds the reference implementations that tests compare
// against: Python with PyTorch, torchvision and ONNX (Debian's packages)
// and Node.js with onnxruntime-node.
//
// A test that needs a peer calls Python or Node. Where the peer is missing
// the test is skipped with a message that says what to install, unless the
// environment sets GOOGLENET_REQUIRE_PEERS=1 (CI does): then the test fails,
// so a broken install cannot pass unnoticed.
//
// # Environment
//
//	GOOGLENET_PYTHON         interpreter to use (default /usr/bin/python3, Debian's,
//	                         which has python3-torch; the python3 on PATH may not)
//	GOOGLENET_NODE           Node.js binary (default: node on PATH)
//	GOOGLENET_ORT_DIR        folder whose node_modules holds onnxruntime-node
//	                         (default: $XDG_CACHE_HOME/googlenet/ort, see ORTDir)
//	GOOGLENET_REQUIRE_PEERS  1: a missing peer fails the test instead of skipping it
package peer
