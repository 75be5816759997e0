package torchpth_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/goinception/googlenet/interchange/torchpth"
)

func Example() {
	// tiny.pth was written by testdata's make_fixtures.py with
	// torch.save(model.state_dict(), "tiny.pth").
	sd, err := torchpth.ReadFile(filepath.Join("testdata", "tiny.pth"))
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range sd.Names[:3] {
		fmt.Println(name, sd.Tensors[name])
	}
	fmt.Println("num_batches_tracked:", sd.Tensors["bn.num_batches_tracked"].Ints[0])
	// Output:
	// conv.weight float32 [4 3 3 3]
	// conv.bias float32 [4]
	// bn.weight float32 [4]
	// num_batches_tracked: 3
}
