package apihttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// Decode reads a JSON body strictly (unknown fields, trailing data and a
// wrong media type are 400s) into v, at most limit bytes.
func Decode(c echo.Context, limit int64, v any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return NewProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported Media Type",
				fmt.Sprintf("the body must be application/json, not %q", ct))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return BadRequest("could not read the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return BadRequest("the body holds more than one JSON value")
	}
	return nil
}

// DecodeOptional is Decode for bodies that may be empty.
func DecodeOptional(c echo.Context, limit int64, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return Decode(c, limit, v)
}

func jsonProblem(err error) error {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		rule *store.RuleError
	)
	switch {
	case errors.As(err, &rule):
		return rule
	case errors.As(err, &syn):
		return BadRequest("malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		p := BadRequest("%s: must be %s, not %s", field, typ.Type.String(), typ.Value)
		p.Errors = []FieldError{{Field: field, Message: fmt.Sprintf("must be %s, not %s", typ.Type.String(), typ.Value)}}
		return p
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed JSON: the body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := BadRequest("unknown field %q", f)
		p.Errors = []FieldError{{Field: f, Message: "is not a known field"}}
		return p
	}
	return BadRequest("malformed JSON: %v", err)
}
