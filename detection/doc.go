// Package detection is object detection in the manner of the paper's
// section 8 (GoogLeNet's ILSVRC 2014 detection entry): R-CNN with an
// Inception network as the region classifier, proposals from selective
// search, no bounding-box regression, an ensemble of networks on the same
// proposals, and mean average precision at IoU >= 0.5.
//
// # Boxes, overlap, suppression, precision
//
// Box is a rectangle in continuous pixel coordinates (X1 <= x < X2); FromVOC
// and Box.VOC convert PASCAL VOC's 1-based inclusive corners, and with them
// IoU gives the VOC devkit's numbers. ILSVRCThreshold is ILSVRC's
// size-dependent criterion min(0.5, wh/((w+10)(h+10))). NMS is greedy
// non-maximum suppression (NMSPerClass per image and class). Evaluate
// computes per-class average precision with the devkit's rules: detections
// sorted by score (ties in input order), each matched to the unmatched
// ground truth of highest IoU, duplicates false positives, difficult
// objects ignored; APAllPoint is the area under the monotone precision
// envelope (VOC 2010 on), AP11Point VOC 2007's 11-point interpolation.
//
// # Datasets
//
// OpenVOC reads a split of the PASCAL VOC layout (Annotations/*.xml,
// JPEGImages/, ImageSets/Main/<split>.txt), ParseVOC and WriteVOC one
// annotation; ParseCOCO, WriteCOCO, ParseCOCOResults and WriteCOCOResults
// the COCO JSON files. Every parser checks boxes (finite, not inverted,
// inside the image) and names the file at fault; OpenVOC's SkipBad skips
// and counts bad images instead. Each parser has a fuzz target.
//
// # Proposals
//
// Segment is Felzenszwalb and Huttenlocher's graph-based segmentation as
// skimage.segmentation.felzenszwalb computes it (same smoothing, 8-connected
// graph, merge rule and minimum-size pass; segment counts agree with
// skimage's on its sample photographs). SelectiveSearch is Uijlings et
// al.'s hierarchical grouping over those segments with colour, texture,
// size and fill similarities in several colour spaces (ToSpace: RGB, HSV,
// Lab, rgI, I, H); ModeFast is their "fast" diversification, and
// SearchOptions.Superpixels = 2 is the paper's doubled superpixel size.
//
// # Regions
//
// Warp cuts a proposal out with R-CNN's context padding (16 pixels at 227,
// ContextFor scales it) and warps it to the classifier's square input.
// LabelProposals applies R-CNN's fine-tuning rule (IoU >= 0.5 with an
// object: its class; otherwise background; ground-truth boxes added as
// positives) and Balance draws a set with 25% positives; BuildRegions
// does all three for a split and returns a RegionSet, a data.Dataset that
// package train trains on (TrainClassifier: the classes plus
// BackgroundName, validation on regions of held-out training images).
//
// R-CNN starts its region classifier from a network trained on ImageNet
// classification. Our benchmark's counterpart is ObjectCrops: object crops
// (tight, or boxes with IoU >= 0.5 around the object) and background crops
// (IoU < 0.5 with every object) warped from canvases made of the training
// photographs and the objects' training split, as many as asked; Pretrain
// trains a region classifier on them, and TrainClassifier's
// Train.InitFrom fine-tunes it on the proposals (the labels are in the
// same order, so the classifier carries over too).
//
// # Detection and evaluation
//
// A Detector holds one or more region classifiers (an ensemble: their
// softmax probabilities are averaged over the same proposals); it warps
// every proposal, scores it, and keeps per class the detections that
// survive NMS (0.3, R-CNN's). There is no bounding-box regression, as in
// the paper. Detector.Evaluate returns a Report: per-class AP, mAP@0.5,
// recall, each member's own mAP, and an oracle mAP with jittered
// ground-truth boxes as the only proposals (Jitter), which separates the
// classifier's errors from the proposals'.
//
// # A benchmark from real images
//
// No detection dataset can be downloaded here, so MakeData writes one in
// VOC layout: canvases cut from photographs (by default the sample images
// of Debian's python3-skimage, dealt alternately to the training and test
// splits), with 1 to 5 MNIST digits or Fashion-MNIST items pasted at random
// scales and tight boxes; training objects come from the datasets'
// training splits and test objects from their test splits. Draw draws
// boxes and labels on an image. docs/detection.md has the commands and the
// numbers.
package detection
