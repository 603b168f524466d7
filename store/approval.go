package store

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// ApprovalKind is what a maker-checker request would change.
type ApprovalKind string

const (
	KindCreateUser         ApprovalKind = "user.create"
	KindDeleteUser         ApprovalKind = "user.delete"
	KindLockUser           ApprovalKind = "user.lock"
	KindUnlockUser         ApprovalKind = "user.unlock"
	KindResetPassword      ApprovalKind = "user.reset_password"
	KindCreateJobRole      ApprovalKind = "job_role.create"
	KindEditJobRole        ApprovalKind = "job_role.edit"
	KindDeleteJobRole      ApprovalKind = "job_role.delete"
	KindCreateAccountGroup ApprovalKind = "account_group.create"
	KindEditAccountGroup   ApprovalKind = "account_group.edit"
	KindDeleteAccountGroup ApprovalKind = "account_group.delete"
	KindAssign             ApprovalKind = "assignment.create"
)

// ApprovalStatus is the state of a request; only pending can change, once.
type ApprovalStatus string

const (
	ApprovalPending   ApprovalStatus = "PENDING_APPROVAL"
	ApprovalApproved  ApprovalStatus = "APPROVED"
	ApprovalRejected  ApprovalStatus = "REJECTED"
	ApprovalCancelled ApprovalStatus = "CANCELLED"
)

// ApprovalRequest is a change submitted by a maker and pending a checker.
type ApprovalRequest struct {
	ID              string
	BusinessGroupID string
	LegalEntityID   string // the context it was made in (empty: business group overview)
	Kind            ApprovalKind
	Permission      Permission // whose Approve right decides it
	Right           Right      // the right exercised (self-approval checks it)
	TargetID        string     // the record changed (empty for creations until applied)
	TargetVersion   int64      // the target's Version when submitted; approval refuses if it moved
	Payload         json.RawMessage
	InitiatorID     string
	Status          ApprovalStatus
	Reason          string // rejection reason
	DecidedBy       string
	DecidedAt       time.Time
	CreatedAt       time.Time
}

// Notification is a message to one user.
type Notification struct {
	ID          string
	RecipientID string
	Kind        string // e.g. "approval.submitted", "approval.pending", "approval.decided"
	Text        string
	RequestID   string
	Read        bool
	CreatedAt   time.Time
}

// GrantAudit is the audit event AllowReadAuthFlow appends with the grant
// it writes, in the same step: Granted when the grant replaced no consent,
// Replaced when it replaced one. Replaced differs from Granted only in its
// Action and its After, where the JSON string of ReplacedMark stands for
// the replaced consent's ID. A zero GrantAudit appends nothing.
type GrantAudit struct {
	Granted, Replaced AuditEvent
}

// ReplacedMark stands in GrantAudit.Replaced's After for the consent the
// grant replaced.
const ReplacedMark = "\x00replaced consent\x00"

// ReplacedMarkJSON is ReplacedMark as a JSON string.
var ReplacedMarkJSON, _ = json.Marshal(ReplacedMark)

// Event is the event of a grant that replaced the consents replaced (one,
// normally; of several the least ID is named; none: Granted).
func (g GrantAudit) Event(replaced []string) (AuditEvent, error) {
	if len(replaced) == 0 {
		return g.Granted, nil
	}
	before, after, ok := g.ReplacedAfter()
	if !ok {
		return AuditEvent{}, Invalid("audit", "the Replaced event's After does not name the replaced consent")
	}
	id, err := json.Marshal(slices.Min(replaced))
	if err != nil {
		return AuditEvent{}, err
	}
	e := g.Granted
	e.Action = g.Replaced.Action
	e.After = slices.Concat(before, id, after)
	return e, nil
}

// ReplacedAfter is Replaced's After around the JSON string of
// ReplacedMark; ok is false when it does not name the replaced consent.
func (g GrantAudit) ReplacedAfter() (before, after []byte, ok bool) {
	return bytes.Cut(g.Replaced.After, ReplacedMarkJSON)
}

// AuditEvent is one append-only line of the audit log.
type AuditEvent struct {
	Seq             int64 // assigned by the store, strictly increasing
	BusinessGroupID string
	ActorID         string // user or client ID; "system" for the bank
	Action          string // e.g. "job_role.create.submitted", "approval.approved"
	TargetType      string
	TargetID        string
	RequestID       string // the approval request it came from, if any
	HTTPRequestID   string // the X-Request-ID of the HTTP request that caused it
	RemoteAddr      string
	UserAgent       string
	Outcome         string // "success", "failure" or "refused"; "" on events before issue 10 §5
	Before          json.RawMessage
	After           json.RawMessage
	At              time.Time
}
