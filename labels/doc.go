// Package labels holds class names shipped with the module: the 1000
// ImageNet-1k (ILSVRC 2012) classes in the order of the published GoogLeNet
// weights' outputs (class index = line number - 1).
//
// # Source
//
// imagenet1k.txt is torchvision's list (torchvision/models/_meta.py,
// _IMAGENET_CATEGORIES, torchvision 0.14, BSD 3-clause licence), one name a
// line, written out by
//
//	python3 -c "from torchvision.models._meta import _IMAGENET_CATEGORIES as C; print('\n'.join(C))"
//
// The names are the first WordNet lemma of each synset in the sorted synset
// order (n01440764 tench ... n15075141 toilet tissue) that torchvision,
// Caffe's synset_words.txt and the ONNX model zoo share, so index i means
// the same class for all three published GoogLeNets. torchvision made the
// names unique where synsets share a lemma: "crane bird" (134) and "crane"
// (517), "maillot" (638) and "maillot tank suit" (639).
package labels
