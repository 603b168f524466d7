package statement

import (
	"bufio"
	"strings"
	"testing"
)

func TestEscaping(t *testing.T) {
	const in = "Tim Horton's \"Café\" & <Co>\x01\tend"
	for _, tc := range []struct {
		name string
		fn   func(*bufio.Writer, string)
		want string
	}{
		{"XML (attributes too)", WriteEscaped, "Tim Horton&apos;s &quot;Café&quot; &amp; &lt;Co&gt; \tend"},
		{"text only (OFX 1.x SGML)", WriteText, "Tim Horton's \"Café\" &amp; &lt;Co&gt; \tend"},
	} {
		var sb strings.Builder
		w := bufio.NewWriter(&sb)
		tc.fn(w, in)
		w.Flush()
		if sb.String() != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, sb.String(), tc.want)
		}
	}
}
