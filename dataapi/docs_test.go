package dataapi_test

import (
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export"
)

// TestFormatEnum: the OpenAPI document's ExportFormat enum is exactly the
// format= names the server serves (issue 13 §5), in its order.
func TestFormatEnum(t *testing.T) {
	doc, _ := loadSpec(t)
	ref := doc.Components.Schemas["ExportFormat"]
	if ref == nil || ref.Value == nil {
		t.Fatal("no ExportFormat schema")
	}
	var got []string
	for _, v := range ref.Value.Enum {
		s, _ := v.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, export.Names()) {
		t.Errorf("ExportFormat enum %v, the server's names %v", got, export.Names())
	}
	for _, path := range []string{"/accounts/{accountId}/exports", "/accounts/{accountId}/statements/{statementId}"} {
		p := doc.Paths.Find(path)
		if p == nil || p.Get == nil {
			t.Fatalf("no GET %s", path)
		}
		if prm := p.Get.Parameters.GetByInAndName("query", "format"); prm == nil || prm.Schema == nil || prm.Schema.Ref != "#/components/schemas/ExportFormat" {
			t.Errorf("GET %s: format= is not the ExportFormat enum", path)
		}
	}
}
