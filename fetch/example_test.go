package fetch_test

import (
	"fmt"

	"github.com/goinception/googlenet/fetch"
)

func ExampleLookup() {
	s, err := fetch.Lookup("caffe")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.URL)
	fmt.Println(s.Digest)
	// Output:
	// http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel
	// sha1 405fc5acd08a3bb12de8ee5e23a96bec22f08204
}
