package pb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/goinception/googlenet/interchange/onnx/internal/pb"
)

// The messages use onnx.proto's field numbers, so their bytes are ONNX's:
// ir_version (field 1, varint) 8 encodes as 08 08. A model with one Relu
// node survives a round trip through the wire format.
func ExampleModelProto() {
	b, err := proto.Marshal(&pb.ModelProto{IrVersion: proto.Int64(8)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", b)

	m := &pb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &pb.GraphProto{
			Name: proto.String("g"),
			Node: []*pb.NodeProto{{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"y"}}},
		},
	}
	b, err = proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	var back pb.ModelProto
	if err := proto.Unmarshal(b, &back); err != nil {
		fmt.Println(err)
		return
	}
	n := back.GetGraph().GetNode()[0]
	fmt.Println(back.GetIrVersion(), back.GetOpsetImport()[0].GetVersion(), n.GetOpType(), n.GetInput(), n.GetOutput())
	// Output:
	// 08 08
	// 8 17 Relu [x] [y]
}
