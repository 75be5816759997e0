package torchpth

import (
	"bytes"
	"encoding/binary"

	"github.com/pkg/errors"
)

// maxPickleSize bounds a state dict's pickle (the tensor data lives
// elsewhere); torchvision's GoogLeNet pickle is about 30 KB.
const maxPickleSize = 64 << 20

// scanPickle walks the opcodes of the pickle at the start of b without
// executing them and returns the offset just past its STOP opcode. It rejects
// unknown opcodes, arguments that run past the end of b, and GLOBAL or INST
// opcodes naming a global outside the allow-list, so that the unpickler
// never sees an argument length larger than the input (which would make it
// allocate that much) or a forbidden class.
func scanPickle(b []byte) (int, error) {
	pos := 0
	need := func(n uint64) error {
		if n > uint64(len(b)-pos) {
			return errors.Errorf("pickle: argument at offset %d needs %d bytes, %d remain", pos, n, len(b)-pos)
		}
		return nil
	}
	line := func() ([]byte, error) {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return nil, errors.Errorf("pickle: unterminated line argument at offset %d", pos)
		}
		l := b[pos : pos+i]
		pos += i + 1
		return l, nil
	}
	for pos < len(b) {
		op := b[pos]
		at := pos
		pos++
		switch op {
		case '.': // STOP
			return pos, nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// No argument.
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p':
			if _, err := line(); err != nil {
				return 0, err
			}
		case 'c', 'i': // GLOBAL, INST: module and name lines
			mod, err := line()
			if err != nil {
				return 0, err
			}
			name, err := line()
			if err != nil {
				return 0, err
			}
			if !allowedGlobal(string(mod), string(name)) {
				return 0, errors.Errorf("pickle names global %s.%s at offset %d, which is not on the allow-list", mod, name, at)
			}
		case 'K', 'h', 'q', 0x80, 0x82:
			if err := need(1); err != nil {
				return 0, err
			}
			pos++
		case 'M', 0x83:
			if err := need(2); err != nil {
				return 0, err
			}
			pos += 2
		case 'J', 'j', 'r', 0x84:
			if err := need(4); err != nil {
				return 0, err
			}
			pos += 4
		case 'G':
			if err := need(8); err != nil {
				return 0, err
			}
			pos += 8
		case 'U', 'C', 0x8c, 0x8a: // 1-byte length
			if err := need(1); err != nil {
				return 0, err
			}
			n := uint64(b[pos])
			pos++
			if err := need(n); err != nil {
				return 0, err
			}
			pos += int(n)
		case 'T', 'X', 'B', 0x8b: // 4-byte length
			if err := need(4); err != nil {
				return 0, err
			}
			n := uint64(binary.LittleEndian.Uint32(b[pos:]))
			pos += 4
			if err := need(n); err != nil {
				return 0, err
			}
			pos += int(n)
		case 0x8d, 0x8e, 0x96: // 8-byte length
			if err := need(8); err != nil {
				return 0, err
			}
			n := binary.LittleEndian.Uint64(b[pos:])
			pos += 8
			if err := need(n); err != nil {
				return 0, err
			}
			pos += int(n)
		case 0x95: // FRAME: its contents are ordinary opcodes
			if err := need(8); err != nil {
				return 0, err
			}
			n := binary.LittleEndian.Uint64(b[pos:])
			pos += 8
			if err := need(n); err != nil {
				return 0, err
			}
		default:
			return 0, errors.Errorf("pickle: unknown opcode %#x at offset %d", op, at)
		}
	}
	return 0, errors.New("pickle: truncated (no STOP opcode)")
}
