package gormstore

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// TestScanRaw: each wire form decodes to what pgx's Scan gives, and
// anything scanRaw does not know is refused (pgx's Scan then decides).
func TestScanRaw(t *testing.T) {
	be := func(n int, v int64) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(v))
		return b[8-n:]
	}
	str, num := "x", int64(-5)
	for _, c := range []struct {
		oid    uint32
		format int16
		v      []byte
		dest   any // pointer to a zero value
		want   any // nil: refused
	}{
		{oidText, binaryFmt, []byte("héllo"), new(string), "héllo"},
		{oidVarchar, 0, []byte(""), new(string), ""},
		{oidText, binaryFmt, nil, new(string), nil},
		{oidInt8, binaryFmt, []byte("x"), new(string), nil},
		{oidText, binaryFmt, nil, new(*string), (*string)(nil)},
		{oidText, binaryFmt, []byte("x"), new(*string), &str},
		{oidInt8, binaryFmt, be(8, 1), new(*string), nil},
		{oidInt8, binaryFmt, be(8, -1234567890123), new(int64), int64(-1234567890123)},
		{oidInt4, binaryFmt, be(4, -5), new(int64), int64(-5)},
		{oidInt2, binaryFmt, be(2, 300), new(int64), int64(300)},
		{oidInt8, 0, []byte("-42"), new(int64), int64(-42)},
		{oidInt8, 0, []byte("4x"), new(int64), nil},
		{oidInt8, binaryFmt, be(4, 1), new(int64), nil},
		{oidText, 0, []byte("1"), new(int64), nil},
		{oidInt8, binaryFmt, nil, new(int64), nil},
		{oidInt8, binaryFmt, nil, new(*int64), (*int64)(nil)},
		{oidInt4, binaryFmt, be(4, -5), new(*int64), &num},
		{oidText, 0, []byte("5"), new(*int64), nil},
		{oidBool, binaryFmt, []byte{1}, new(bool), true},
		{oidBool, 0, []byte("f"), new(bool), false},
		{oidBool, 0, []byte("x"), new(bool), nil},
		{oidBool, binaryFmt, nil, new(bool), nil},
		{oidBytea, binaryFmt, []byte{0, 1}, new([]byte), []byte{0, 1}},
		{oidBytea, binaryFmt, nil, new([]byte), []byte(nil)},
		{oidBytea, 0, []byte(`\x0001`), new([]byte), nil},
		{oidText, binaryFmt, []byte("1"), new(float64), nil},
	} {
		text := rowText{all: string(c.v), rows: &rawRows{}}
		ok := text.scan(c.oid, c.format, c.v, c.dest)
		if c.want == nil {
			if ok {
				t.Errorf("scan(%d, %d, %q, %T) accepted; want refused", c.oid, c.format, c.v, c.dest)
			}
			continue
		}
		if got := reflect.ValueOf(c.dest).Elem().Interface(); !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("scan(%d, %d, %q, %T) = %v, %#v; want %#v", c.oid, c.format, c.v, c.dest, ok, got, c.want)
		}
	}
}
