package authz

import (
	"reflect"
	"testing"
	"time"
)

// TestSessionDeepCopySharesNothing: deepCopy of a session with every field
// set (filled by reflection, so a field fosite adds is filled too) is equal
// to it and shares no map, slice or pointer with it — a cached session is
// copied for each introspection and fosite changes its copy.
func TestSessionDeepCopySharesNothing(t *testing.T) {
	s := &Session{}
	fill(reflect.ValueOf(s).Elem())
	c := s.deepCopy()
	if !reflect.DeepEqual(s, c) {
		t.Fatalf("copy differs:\n%#v\n%#v", s, c)
	}
	shared(t, "Session", reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem())
}

// fill sets every field reachable from v: one element in each slice and
// map, nested JSON-like values in interface maps.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanSet() {
				f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported
			}
			fill(f)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]interface{}{"n": []interface{}{"x", map[string]interface{}{"m": "y"}}, "s": []string{"z"}}))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// shared fails for every map, slice or pointer of b that is a's.
func shared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared by the copy", path)
			return
		}
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !a.IsNil() {
			shared(t, path, a.Elem(), b.Elem())
		}
	case reflect.Struct:
		for i := range a.NumField() {
			shared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		for i := range a.Len() {
			shared(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		for _, k := range a.MapKeys() {
			shared(t, path+"["+k.String()+"]", a.MapIndex(k), b.MapIndex(k))
		}
	}
}
