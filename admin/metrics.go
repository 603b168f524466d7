package admin

import (
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// countDecision counts a committed decision by the status it left the
// request in (approved, rejected, cancelled).
func (s *Server) countDecision(st store.ApprovalStatus) {
	s.metrics.ApprovalDecided(strings.ToLower(string(st)))
}
