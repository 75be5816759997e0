package caffe

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/goinception/googlenet/interchange/caffe/internal/pb"
)

// FuzzDecode: any input gives a network or an error, never a panic, and
// an accepted network's blobs hold exactly their shapes' values; mapping it
// onto GoogLeNet gives a model or an error.
func FuzzDecode(f *testing.F) {
	small := &pb.NetParameter{Name: proto.String("n"), Layer: []*pb.LayerParameter{{
		Name: proto.String("conv1/7x7_s2"), Type: proto.String("Convolution"),
		ConvolutionParam: &pb.ConvolutionParameter{NumOutput: proto.Uint32(2), KernelSize: []uint32{1}},
		Blobs:            []*pb.BlobProto{{Shape: &pb.BlobShape{Dim: []int64{2, 1, 1, 1}}, Data: []float32{1, 2}}, {Num: proto.Int32(1), Channels: proto.Int32(1), Height: proto.Int32(1), Width: proto.Int32(2), Data: []float32{0, 1}}},
	}}, Layers: nil}
	b, _ := proto.Marshal(small)
	f.Add(b)
	v1 := &pb.NetParameter{Layers: []*pb.V1LayerParameter{{Name: proto.String("loss3/classifier"), Type: pb.V1LayerParameter_INNER_PRODUCT.Enum(),
		Blobs: []*pb.BlobProto{{DoubleData: []float64{1, 2}, Shape: &pb.BlobShape{Dim: []int64{1, 2}}}}}}}
	b, _ = proto.Marshal(v1)
	f.Add(b)
	f.Add([]byte{0xa2, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{0xa0, 0x06, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err != nil {
			return
		}
		for _, l := range n.Layers {
			for _, bl := range l.Blobs {
				k := 1
				for _, d := range bl.Shape {
					if d <= 0 {
						t.Fatalf("dimension %d accepted", d)
					}
					k *= d
				}
				if k != len(bl.Data) {
					t.Fatalf("shape %v with %d values accepted", bl.Shape, len(bl.Data))
				}
			}
		}
		_, _ = ImportGoogLeNet(n, Options{InputSize: 32})
		_ = checkStructure(n)
	})
}
