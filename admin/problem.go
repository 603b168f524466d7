package admin

import (
	"github.com/bankfeed/bankfeed/internal/apihttp"
)

// Problem is the problem document /admin/v1 answers (internal/apihttp's,
// shared with /ops/v1); the console reads it as admin's.
type Problem = apihttp.Problem
