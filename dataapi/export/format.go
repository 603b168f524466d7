package export

import (
	"fmt"
	"mime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bankfeed/bankfeed/dataapi/export/bai2"
	"github.com/bankfeed/bankfeed/dataapi/export/camt"
	"github.com/bankfeed/bankfeed/dataapi/export/csv"
	exportjson "github.com/bankfeed/bankfeed/dataapi/export/json"
	"github.com/bankfeed/bankfeed/dataapi/export/mt940"
	"github.com/bankfeed/bankfeed/dataapi/export/ofx"
	"github.com/bankfeed/bankfeed/dataapi/export/pdf"
)

// Format is one rendering a client can ask for.
type Format struct {
	Name      string   // the format= short name, e.g. "camt053"
	Aliases   []string // other names format= accepts, e.g. "camt.053.001.02"
	MediaType string   // e.g. "application/xml"
	Profile   string   // the media type's profile parameter, e.g. "camt.053.001.02" ("" for none)
	Extension string   // file name extension, e.g. ".xml"
	Pending   bool     // takes pending entries (when the Document includes them)
	// MaxEntries > 0 caps the entries the format renders (PDF pages are
	// built in memory); larger documents get a *TooLargeError.
	MaxEntries int

	write writeFunc
}

// ContentType is the Content-Type header value: the media type, a UTF-8
// charset for text types, and the profile.
func (f Format) ContentType() string {
	s := f.MediaType
	if strings.HasPrefix(s, "text/") {
		s += "; charset=utf-8"
	}
	if f.Profile != "" {
		s += `; profile="` + f.Profile + `"`
	}
	return s
}

// Filename is a download name for d in this format, e.g. "stm_x.camt053.xml".
func (f Format) Filename(d *Document) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, d.StatementID)
	return name + "." + f.Name + f.Extension
}

// formats in preference order: PDF first (what a request without Accept gets).
var formats = []Format{
	{Name: "pdf", MediaType: "application/pdf", Extension: ".pdf", MaxEntries: pdf.MaxEntries, write: pdfWriter},
	{Name: "json", MediaType: "application/json", Extension: ".json", Pending: true, write: exportjson.Write},
	{Name: "camt053", Aliases: []string{"camt.053", "camt.053.001.02", "camt053v2"}, MediaType: "application/xml", Profile: camt.Statement02.Name, Extension: ".xml", write: camtWriter(camt.Statement02)},
	{Name: "camt053v8", Aliases: []string{"camt.053.001.08"}, MediaType: "application/xml", Profile: camt.Statement08.Name, Extension: ".xml", write: camtWriter(camt.Statement08)},
	{Name: "camt052", Aliases: []string{"camt.052", "camt.052.001.02", "camt052v2"}, MediaType: "application/xml", Profile: camt.Report02.Name, Extension: ".xml", Pending: true, write: camtWriter(camt.Report02)},
	{Name: "camt052v8", Aliases: []string{"camt.052.001.08"}, MediaType: "application/xml", Profile: camt.Report08.Name, Extension: ".xml", Pending: true, write: camtWriter(camt.Report08)},
	{Name: "bai2", Aliases: []string{"bai"}, MediaType: "text/plain", Profile: "bai2", Extension: ".bai", write: bai2.Write},
	{Name: "mt940", MediaType: "text/plain", Profile: "mt940", Extension: ".sta", write: mt940.Write},
	// ofx is OFX 1.0.2 in UTF-8: every importer tried reads it with its
	// accents; ofxparse (Odoo) cannot read OFX 2 with any non-ASCII letter.
	{Name: "ofx", Aliases: []string{"ofx1", "ofx102"}, MediaType: "application/x-ofx", Extension: ".ofx", write: ofxWriter(ofx.OFX1)},
	{Name: "ofx2", Aliases: []string{"ofx220"}, MediaType: "application/x-ofx", Profile: "ofx2", Extension: ".ofx", write: ofxWriter(ofx.OFX2)},
	{Name: "qbo", MediaType: "application/vnd.intu.qbo", Extension: ".qbo", write: ofxWriter(ofx.QBO)},
	{Name: "qfx", MediaType: "application/vnd.intu.qfx", Extension: ".qfx", write: ofxWriter(ofx.QFX)},
	{Name: "csv", MediaType: "text/csv", Extension: ".csv", write: csvWriter(csv.Default)},
	{Name: "csv-quickbooks3", Aliases: []string{"quickbooks3"}, MediaType: "text/csv", Profile: string(csv.QuickBooks3), Extension: ".csv", write: csvWriter(csv.QuickBooks3)},
	{Name: "csv-quickbooks4", Aliases: []string{"quickbooks4"}, MediaType: "text/csv", Profile: string(csv.QuickBooks4), Extension: ".csv", write: csvWriter(csv.QuickBooks4)},
	{Name: "csv-xero", Aliases: []string{"xero"}, MediaType: "text/csv", Profile: string(csv.Xero), Extension: ".csv", write: csvWriter(csv.Xero)},
}

// Formats lists every format in preference order (the first is the default).
func Formats() []Format { return slices.Clone(formats) }

// ContentTypes lists every format's content type, for a 406 answer.
func ContentTypes() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.ContentType()
	}
	return out
}

// Names lists every format's format= name in preference order, for the
// answer to an unknown one.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Name
	}
	return out
}

// Lookup finds a format by its format= name or an alias (case-insensitive);
// a "; profile=x" suffix or a bare profile picks a CSV layout ("csv;
// profile=xero", "xero", "csv-xero").
func Lookup(name string) (Format, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	base, params, _ := strings.Cut(name, ";")
	base = strings.TrimSpace(base)
	if params != "" {
		if _, p, err := mime.ParseMediaType("x/y;" + params); err == nil && p["profile"] != "" && p["profile"] != "default" {
			base = base + "-" + p["profile"]
		}
	}
	for _, f := range formats {
		if f.Name == base || slices.Contains(f.Aliases, base) {
			return f, true
		}
	}
	return Format{}, false
}

// NotAcceptableError says no supported format matches the request; the API
// answers 406 with FDX code 1203 and the Supported list.
type NotAcceptableError struct {
	Requested string
	// Format is set when Requested is an unknown format= name: Supported
	// then lists the format names (Names), else the content types.
	Format    bool
	Supported []string
}

func (e *NotAcceptableError) Error() string {
	if e.Format {
		return fmt.Sprintf("unknown format %q; formats: %s", e.Requested, strings.Join(e.Supported, ", "))
	}
	return fmt.Sprintf("no supported format matches %q; supported: %s", e.Requested, strings.Join(e.Supported, ", "))
}

// Negotiate picks the format for a request: formatParam (the format= query
// for clients that cannot set headers: a short name, an alias or a media
// type) wins over accept (the Accept header). An empty or wildcard Accept
// gets the default (the first of Formats). Media ranges are honoured by q
// value, then order; a profile parameter must match the format's profile,
// and a media type without one gets that type's first format
// (application/xml → camt.053.001.02, text/plain → BAI2, text/csv → the
// default CSV). Nothing acceptable: a *NotAcceptableError.
func Negotiate(accept, formatParam string) (Format, error) {
	if formatParam = strings.TrimSpace(formatParam); formatParam != "" {
		if strings.Contains(formatParam, "/") {
			accept = formatParam
		} else if f, ok := Lookup(formatParam); ok {
			return f, nil
		} else {
			return Format{}, &NotAcceptableError{Requested: formatParam, Format: true, Supported: Names()}
		}
	}
	if strings.TrimSpace(accept) == "" {
		return formats[0], nil
	}
	type rng struct {
		typ, sub, profile string
		q                 float64
		order             int
	}
	var ranges []rng
	for i, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		typ, sub, _ := strings.Cut(mt, "/")
		ranges = append(ranges, rng{typ: typ, sub: sub, profile: strings.ToLower(params["profile"]), q: q, order: i})
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	for _, r := range ranges {
		for _, f := range formats {
			typ, sub, _ := strings.Cut(f.MediaType, "/")
			if (r.typ != "*" && r.typ != typ) || (r.sub != "*" && r.sub != sub) {
				continue
			}
			if r.profile != "" && r.profile != strings.ToLower(f.Profile) && !(r.profile == "default" && f.Profile == "") {
				continue
			}
			if r.typ == "*" || r.sub == "*" {
				return preferred(typ, r.typ), nil
			}
			return f, nil
		}
	}
	return Format{}, &NotAcceptableError{Requested: accept, Supported: ContentTypes()}
}

// preferred is the default format for a wildcard range: */* gets the
// overall default, text/* its first text format.
func preferred(typ, want string) Format {
	if want == "*" {
		return formats[0]
	}
	for _, f := range formats {
		if strings.HasPrefix(f.MediaType, typ+"/") {
			return f
		}
	}
	return formats[0]
}
