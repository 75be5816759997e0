package labels_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goinception/googlenet/labels"
)

func TestImageNet(t *testing.T) {
	l := labels.ImageNet()
	if len(l) != labels.ImageNetClasses {
		t.Fatalf("%d names", len(l))
	}
	for i, s := range l {
		if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\r\t") {
			t.Errorf("name %d %q", i, s)
		}
	}
	// Spot checks against the synset order (n01440764 tench ... n15075141).
	for i, want := range map[int]string{0: "tench", 1: "goldfish", 281: "tabby", 285: "Egyptian cat", 817: "sports car", 999: "toilet tissue"} {
		if l[i] != want {
			t.Errorf("class %d is %q, want %q", i, l[i], want)
		}
	}
	l[0] = "changed"
	if labels.ImageNet()[0] != "tench" {
		t.Error("ImageNet returns shared storage")
	}
	if labels.For(10) != nil || len(labels.For(1000)) != 1000 {
		t.Error("For")
	}
}

func ExampleImageNet() {
	names := labels.ImageNet()
	fmt.Println(len(names), names[0], "/", names[281], "/", names[999])
	// Output: 1000 tench / tabby / toilet tissue
}
