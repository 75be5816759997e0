package checkpoint_test

import (
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/interchange/convert"
)

// TestFormatNameKnownToSniffer keeps the sniffer of package convert, which
// does not import checkpoint, in step with the name our files carry.
func TestFormatNameKnownToSniffer(t *testing.T) {
	if convert.CheckpointFormatName != checkpoint.FormatName {
		t.Fatalf("convert.CheckpointFormatName %q, checkpoint.FormatName %q", convert.CheckpointFormatName, checkpoint.FormatName)
	}
}
