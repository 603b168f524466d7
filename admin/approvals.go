package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

type approvalJSON struct {
	ID            string               `json:"id"`
	Kind          store.ApprovalKind   `json:"kind"`
	Status        store.ApprovalStatus `json:"status"`
	Permission    store.Permission     `json:"permission"`
	Right         string               `json:"right"`
	LegalEntityID string               `json:"legalEntityId,omitempty"`
	TargetID      string               `json:"targetId,omitempty"`
	TargetVersion int64                `json:"targetVersion,omitempty"`
	Payload       json.RawMessage      `json:"payload,omitempty"`
	InitiatorID   string               `json:"initiatorId"`
	Reason        string               `json:"reason,omitempty"`
	DecidedBy     string               `json:"decidedBy,omitempty"`
	DecidedAt     *time.Time           `json:"decidedAt,omitempty"`
	CreatedAt     time.Time            `json:"createdAt"`
}

func toApprovalJSON(r store.ApprovalRequest) approvalJSON {
	return approvalJSON{ID: r.ID, Kind: r.Kind, Status: r.Status, Permission: r.Permission, Right: r.Right.String(),
		LegalEntityID: r.LegalEntityID, TargetID: r.TargetID, TargetVersion: r.TargetVersion, Payload: r.Payload,
		InitiatorID: r.InitiatorID, Reason: r.Reason, DecidedBy: r.DecidedBy, DecidedAt: apihttp.TimeOrNil(r.DecidedAt), CreatedAt: r.CreatedAt.UTC()}
}

// submission describes a maker's request.
type submission struct {
	Kind          store.ApprovalKind
	TargetType    string
	TargetID      string
	TargetVersion int64
	Payload       any
	Before        any // the target as it is now (audit)
}

// submitted answers 202 with a request an operation submitted.
func submitted(c echo.Context) func(store.ApprovalRequest, error) error {
	return func(req store.ApprovalRequest, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, toApprovalJSON(req))
	}
}

// submit records a pending request, audits it and notifies; nothing else
// changes. Every operation that makes a request ends here.
func (s *Server) submit(ctx context.Context, cl caller, sub submission) (store.ApprovalRequest, error) {
	perm, right := sub.Kind.ApprovalPermission()
	payload, err := json.Marshal(sub.Payload)
	if err != nil {
		return store.ApprovalRequest{}, fmt.Errorf("admin: marshal payload: %w", err)
	}
	id, idempotent := ctx.Value(requestIDKey{}).(string)
	if !idempotent {
		id = store.NewID("apr")
	}
	var req store.ApprovalRequest
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		req, err = s.st.CreateApproval(ctx, store.ApprovalRequest{
			ID: id, BusinessGroupID: cl.User.BusinessGroupID, LegalEntityID: cl.LegalEntityID,
			Kind: sub.Kind, Permission: perm, Right: right, TargetID: sub.TargetID, TargetVersion: sub.TargetVersion,
			Payload: payload, InitiatorID: cl.User.ID, Status: store.ApprovalPending, CreatedAt: s.now().UTC(),
		})
		if idempotent && errors.Is(err, store.ErrConflict) {
			return apihttp.NewProblem(http.StatusConflict, "already-submitted", "Conflict", "this form was already submitted: its request exists")
		} else if err != nil {
			return fmt.Errorf("admin: create approval: %w", err)
		}
		if err := s.auditTx(ctx, cl, auditEntry{Action: string(sub.Kind) + ".submitted", TargetType: sub.TargetType,
			TargetID: sub.TargetID, RequestID: req.ID, Before: sub.Before, After: json.RawMessage(payload)}); err != nil {
			return err
		}
		return s.notifySubmitted(ctx, req)
	})
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	s.metrics.ApprovalSubmitted()
	return req, nil
}

// loadApproval finds a request of the caller's business group (404 otherwise).
func (s *Server) loadApproval(ctx context.Context, cl caller, id string) (store.ApprovalRequest, error) {
	r, err := s.st.GetApproval(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.BusinessGroupID != cl.User.BusinessGroupID) {
		return r, apihttp.NotFound("approval request", id)
	} else if err != nil {
		return r, fmt.Errorf("admin: get approval: %w", err)
	}
	return r, nil
}

// mayView: the initiator, or anyone holding Approve on its permission.
func mayView(cl caller, r store.ApprovalRequest) bool {
	return r.InitiatorID == cl.User.ID || cl.Grants.Rights(r.Permission).Has(store.RightApprove)
}

func parseStatus(v string) (*store.ApprovalStatus, error) {
	if v == "" {
		return nil, nil
	}
	for _, st := range []store.ApprovalStatus{store.ApprovalPending, store.ApprovalApproved, store.ApprovalRejected, store.ApprovalCancelled} {
		short := strings.TrimSuffix(strings.ToLower(string(st)), "_approval")
		if strings.EqualFold(v, string(st)) || strings.EqualFold(v, short) {
			return &st, nil
		}
	}
	return nil, apihttp.BadRequest("status must be pending, approved, rejected or cancelled, not %q", v)
}

// handleListApprovals: ?status=pending lists exactly the requests the caller
// may decide now; otherwise those the caller initiated or may approve. Both
// keep only requests whose targets the caller's context reaches now.
// ?initiator=me narrows to the caller's own. Filtering happens after the
// store's keyset page, so a page may hold fewer than limit items; follow
// next until it is absent.
func (s *Server) handleListApprovals(c echo.Context) error {
	cl := mustCaller(c)
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	status, err := parseStatus(c.QueryParam("status"))
	if err != nil {
		return err
	}
	f := store.ApprovalFilter{BusinessGroupID: cl.User.BusinessGroupID, Status: status}
	switch v := c.QueryParam("initiator"); v {
	case "":
	case "me":
		f.InitiatorID = &cl.User.ID
	default:
		return apihttp.BadRequest("initiator must be \"me\" or absent, not %q", v)
	}
	ctx := c.Request().Context()
	rs, next, err := filtered(ctx, p, func(ctx context.Context, p store.Page) ([]store.ApprovalRequest, string, error) {
		return s.st.ListApprovals(ctx, f, p)
	}, func(r store.ApprovalRequest) (bool, error) {
		if ok, err := s.reaches(ctx, cl, r); !ok || err != nil {
			return false, err
		}
		if status != nil && *status == store.ApprovalPending && f.InitiatorID == nil {
			also, err := s.alsoExercised(ctx, r)
			if err != nil {
				return false, err
			}
			return store.CanDecide(cl.User.ID, cl.Grants, r, also...) == nil, nil
		}
		return mayView(cl, r), nil
	}, func(r store.ApprovalRequest) string { return r.ID })
	if err != nil {
		return fmt.Errorf("admin: list approvals: %w", err)
	}
	out := make([]approvalJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toApprovalJSON(r))
	}
	return c.JSON(http.StatusOK, apihttp.NewList(out, next))
}

func (s *Server) handleGetApproval(c echo.Context) error {
	cl := mustCaller(c)
	r, err := s.loadApproval(c.Request().Context(), cl, c.Param("id"))
	if err != nil {
		return err
	}
	if !mayView(cl, r) {
		return apihttp.NotFound("approval request", r.ID)
	}
	if ok, err := s.reaches(c.Request().Context(), cl, r); err != nil {
		return err
	} else if !ok {
		return apihttp.NotFound("approval request", r.ID)
	}
	return c.JSON(http.StatusOK, toApprovalJSON(r))
}

// decision is the answer to approve/reject/cancel. TemporaryPassword is
// present only when approving a user creation or password reset: it is
// shown this once, to the approver, who hands it to the user; it is never
// stored in clear, logged or audited.
type decision struct {
	Approval          approvalJSON `json:"approval"`
	Result            any          `json:"result,omitempty"`
	TemporaryPassword string       `json:"temporaryPassword,omitempty"`

	req store.ApprovalRequest // the request as decided, for Decision
}

// handleApprove decides and applies a request in one transaction: of two
// concurrent deciders one wins and the other gets 409; a request whose
// target moved on since submission is refused (409) and stays pending, to
// be rejected or cancelled.
func (s *Server) handleApprove(c echo.Context) error {
	return decided(c)(s.approve(c.Request().Context(), mustCaller(c), c.Param("id")))
}

// decided answers 200 with a decision an operation made.
func decided(c echo.Context) func(decision, error) error {
	return func(d decision, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, d)
	}
}

// approve decides and applies request id.
func (s *Server) approve(ctx context.Context, cl caller, id string) (decision, error) {
	return s.decide(ctx, cl, id, func(ctx context.Context, r store.ApprovalRequest) (out decision, err error) {
		if err := s.mayDecide(ctx, cl, r); err != nil {
			return out, err
		}
		if r, err = s.recordDecision(ctx, cl, r.ID, store.ApprovalApproved, ""); err != nil {
			return out, err
		}
		ap, err := s.apply(ctx, r)
		if err != nil {
			return out, goneSinceSubmitted(err)
		}
		if err := s.auditTx(ctx, cl, auditEntry{Action: "approval.approved", TargetType: "approval", TargetID: r.ID, RequestID: r.ID}); err != nil {
			return out, err
		}
		if err := s.auditTx(ctx, cl, auditEntry{Action: string(r.Kind) + ".applied", TargetType: targetTypeOf(string(r.Kind)),
			TargetID: ap.TargetID, RequestID: r.ID, Before: ap.Before, After: ap.After}); err != nil {
			return out, err
		}
		for _, ev := range ap.Events {
			if err := s.auditTx(ctx, cl, ev); err != nil {
				return out, err
			}
		}
		return decision{Approval: toApprovalJSON(r), Result: ap.After, TemporaryPassword: ap.TemporaryPassword, req: r}, s.notifyDecided(ctx, r)
	})
}

// goneSinceSubmitted turns apply's "not found" into a conflict: every record
// a request names was checked when it was submitted, so a missing one was
// deleted since. A 404 would say the approval in the path is missing; it is
// there, still pending, to be rejected.
func goneSinceSubmitted(err error) error {
	var p *Problem
	switch {
	case errors.As(err, &p) && p.Status == http.StatusNotFound:
		return apihttp.Conflict("%s no longer exists (it was deleted since the request was submitted); the request was not applied — reject it and submit a new one",
			strings.TrimSuffix(p.Detail, " not found"))
	case !errors.As(err, &p) && errors.Is(err, store.ErrNotFound):
		return apihttp.Conflict("a record the request names was deleted since it was submitted; the request was not applied — reject it and submit a new one")
	}
	return err
}

// decide runs fn on request id, in one transaction with loading it (fn's
// notifications and their outbox deliveries included), and returns fn's
// decision once committed.
func (s *Server) decide(ctx context.Context, cl caller, id string,
	fn func(ctx context.Context, r store.ApprovalRequest) (decision, error)) (decision, error) {
	var out decision
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		r, err := s.loadApproval(ctx, cl, id)
		if err != nil {
			return err
		}
		out, err = fn(ctx, r)
		return err
	})
	if err != nil {
		return decision{}, err
	}
	s.countDecision(out.Approval.Status)
	return out, nil
}

// recordDecision stores the caller's decision; of concurrent deciders one
// wins and the others get 409.
func (s *Server) recordDecision(ctx context.Context, cl caller, id string, status store.ApprovalStatus, reason string) (store.ApprovalRequest, error) {
	r, err := s.st.DecideApproval(ctx, id, status, cl.User.ID, reason, s.now().UTC())
	if errors.Is(err, store.ErrConflict) {
		return r, apihttp.Conflict("the request was decided by someone else meanwhile")
	} else if err != nil {
		return r, fmt.Errorf("admin: decide approval: %w", err)
	}
	return r, nil
}

func alreadyDecided(r store.ApprovalRequest) *Problem {
	return apihttp.Conflict("the request is already %s", strings.ToLower(strings.ReplaceAll(string(r.Status), "_", " ")))
}

// alsoExercised is what the request exercises beyond its kind's own right
// (store.JobRoleAlsoExercises): for a job-role change, read from its payload
// against the role as it is now. An edit whose role is gone or moved on
// cannot be applied anyway (apply refuses it), so the role as it is now is
// the role as it was submitted whenever it matters.
func (s *Server) alsoExercised(ctx context.Context, r store.ApprovalRequest) ([]store.Requirement, error) {
	if r.Kind == store.KindCreateUser {
		// A new user created with a job role and account group is also
		// an assignment: its checker needs that approval's right too.
		p, err := payloadOf[userCreatePayload](r)
		if err != nil {
			return nil, err
		}
		if _, ok := p.assignment(""); ok {
			perm, right := store.KindAssign.ApprovalPermission()
			return []store.Requirement{{Permission: perm, Right: right}}, nil
		}
		return nil, nil
	}
	if r.Kind != store.KindCreateJobRole && r.Kind != store.KindEditJobRole {
		return nil, nil
	}
	p, err := payloadOf[jobRolePayload](r)
	if err != nil {
		return nil, err
	}
	var before store.Grants
	if r.Kind == store.KindEditJobRole {
		cur, err := s.getJobRole(ctx, r.BusinessGroupID, r.TargetID)
		var nf *Problem
		if errors.As(err, &nf) && nf.Status == http.StatusNotFound {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		before = cur.Grants
	}
	return store.JobRoleAlsoExercises(r.Kind, before, p.Grants), nil
}

// mayDecide wraps store.CanDecide with clear problems.
func (s *Server) mayDecide(ctx context.Context, cl caller, r store.ApprovalRequest) error {
	also, err := s.alsoExercised(ctx, r)
	if err != nil {
		return err
	}
	err = store.CanDecide(cl.User.ID, cl.Grants, r, also...)
	var re *store.RightError
	switch {
	case err == nil:
		// The rights of the checker's context act only on what it reaches,
		// judged on the records as they are now.
		t, err := s.requestTargets(ctx, r)
		if err != nil {
			return err
		}
		return outOfContext(cl.scope().Reach(t), "you cannot decide this request in your current context")
	case errors.Is(err, store.ErrConflict):
		return alreadyDecided(r)
	case errors.As(err, &re) && r.InitiatorID == cl.User.ID && re.Right != store.RightApprove:
		p := apihttp.Forbidden("self-approval", fmt.Sprintf("you initiated this request: approving it yourself needs the self-approved %s right on the %q permission; another authorised user must decide it",
			re.Right, re.Permission.Title()))
		p.Missing = &apihttp.MissingRight{Permission: string(re.Permission), Title: re.Permission.Title(), Right: "self-approved " + re.Right.String()}
		return p
	}
	return err
}

// reaches reports whether the caller's context reaches every target of r
// as it is now. The overview reaches every record of its business group,
// and a request names only its own group's (checked at submission), so a
// list read in the overview reads no targets.
func (s *Server) reaches(ctx context.Context, cl caller, r store.ApprovalRequest) (bool, error) {
	if cl.scope().Overview() && r.BusinessGroupID == cl.User.BusinessGroupID {
		return true, nil
	}
	t, err := s.requestTargets(ctx, r)
	if err != nil {
		return false, err
	}
	return cl.scope().Reach(t) == nil, nil
}

// deciders returns whether a user may decide req now: in the request's
// context or in a context the user holds an assignment in, with the rights
// held there (store.CanDecide) and a scope that reaches what req touches —
// the rule mayDecide applies to the one who decides.
func (s *Server) deciders(ctx context.Context, req store.ApprovalRequest) (func(context.Context, store.User) (bool, error), error) {
	also, err := s.alsoExercised(ctx, req)
	if err != nil {
		return nil, err
	}
	t, err := s.requestTargets(ctx, req)
	if err != nil {
		return nil, err
	}
	as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
		return s.st.ListAssignments(ctx, req.BusinessGroupID, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list assignments: %w", err)
	}
	contexts := map[string][]string{}
	for _, a := range as {
		if a.LegalEntityID != req.LegalEntityID {
			contexts[a.UserID] = append(contexts[a.UserID], a.LegalEntityID)
		}
	}
	return func(ctx context.Context, u store.User) (bool, error) {
		for _, entity := range append([]string{req.LegalEntityID}, contexts[u.ID]...) {
			g, err := s.grantsOf(ctx, u, entity)
			if err != nil {
				return false, err
			}
			sc := store.Scope{BusinessGroupID: u.BusinessGroupID, LegalEntityID: entity}
			if store.CanDecide(u.ID, g, req, also...) == nil && sc.Reach(t) == nil {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

// requestTargets is what a request touches, read as it is now: the user it
// changes (or the entity a new user belongs to); the accounts an account
// group request adds or removes (all of a new or deleted group's); for an
// assignment the user, the assigned group's accounts and the assignment's
// context. Job roles name no entity and touch nothing here. A record gone
// since submission is left out: approving such a request fails anyway.
func (s *Server) requestTargets(ctx context.Context, r store.ApprovalRequest) (store.Targets, error) {
	var t store.Targets
	user := func(id string) error {
		u, err := s.st.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("admin: get user: %w", err)
		}
		t.Users = append(t.Users, u)
		return nil
	}
	accounts := func(ids []string) error {
		accs, err := s.accountRecords(ctx, ids)
		t.Accounts = append(t.Accounts, accs...)
		return err
	}
	group := func(id string) (store.AccountGroup, bool, error) {
		g, err := s.st.GetAccountGroup(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return g, false, nil
		} else if err != nil {
			return g, false, fmt.Errorf("admin: get account group: %w", err)
		}
		return g, true, nil
	}
	switch r.Kind {
	case store.KindCreateUser:
		p, err := payloadOf[userCreatePayload](r)
		if err != nil {
			return t, err
		}
		t.Entities = []string{p.LegalEntityID}
		if a, ok := p.assignment(""); ok {
			t.Entities = append(t.Entities, a.LegalEntityID)
			g, ok, err := group(a.AccountGroupID)
			if err != nil || !ok {
				return t, err
			}
			return t, accounts(g.AccountIDs)
		}
	case store.KindDeleteUser, store.KindLockUser, store.KindUnlockUser, store.KindResetPassword:
		return t, user(r.TargetID)
	case store.KindCreateAccountGroup, store.KindEditAccountGroup:
		p, err := payloadOf[accountGroupPayload](r)
		if err != nil {
			return t, err
		}
		var before []string
		if r.Kind == store.KindEditAccountGroup {
			g, ok, err := group(r.TargetID)
			if err != nil {
				return t, err
			}
			if ok {
				before = g.AccountIDs
			}
		}
		added, removed := store.AccountsChanged(before, p.AccountIDs)
		return t, accounts(append(added, removed...))
	case store.KindDeleteAccountGroup:
		g, ok, err := group(r.TargetID)
		if err != nil || !ok {
			return t, err
		}
		return t, accounts(g.AccountIDs)
	case store.KindAssign:
		p, err := payloadOf[assignPayload](r)
		if err != nil {
			return t, err
		}
		t.Entities = []string{p.LegalEntityID}
		if err := user(p.UserID); err != nil {
			return t, err
		}
		g, ok, err := group(p.AccountGroupID)
		if err != nil || !ok {
			return t, err
		}
		return t, accounts(g.AccountIDs)
	}
	return t, nil
}

type rejectBody struct {
	Reason string `json:"reason"`
}

func (s *Server) handleReject(c echo.Context) error {
	var b rejectBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return decided(c)(s.reject(c.Request().Context(), mustCaller(c), c.Param("id"), b.Reason))
}

func (s *Server) handleCancel(c echo.Context) error {
	return decided(c)(s.finish(c.Request().Context(), mustCaller(c), c.Param("id"), store.ApprovalCancelled, ""))
}

// reject is a checker's refusal, with the reason the initiator is told.
func (s *Server) reject(ctx context.Context, cl caller, id, reason string) (decision, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return decision{}, apihttp.InvalidField("reason", "is required (at most 500 characters)")
	}
	return s.finish(ctx, cl, id, store.ApprovalRejected, reason)
}

// finish rejects (a checker's decision) or cancels (the initiator's).
func (s *Server) finish(ctx context.Context, cl caller, id string, status store.ApprovalStatus, reason string) (decision, error) {
	return s.decide(ctx, cl, id, func(ctx context.Context, r store.ApprovalRequest) (out decision, err error) {
		if status == store.ApprovalCancelled {
			if r.InitiatorID != cl.User.ID {
				return out, apihttp.Forbidden("not-initiator", "only the user who submitted a request may cancel it")
			}
			if r.Status != store.ApprovalPending {
				return out, alreadyDecided(r)
			}
		} else if err := s.mayDecide(ctx, cl, r); err != nil {
			return out, err
		}
		if r, err = s.recordDecision(ctx, cl, r.ID, status, reason); err != nil {
			return out, err
		}
		action := "approval.rejected"
		if status == store.ApprovalCancelled {
			action = "approval.cancelled"
		}
		if err := s.auditTx(ctx, cl, auditEntry{Action: action, TargetType: "approval", TargetID: r.ID, RequestID: r.ID,
			After: map[string]string{"reason": reason}}); err != nil {
			return out, err
		}
		if status == store.ApprovalRejected {
			err = s.notifyDecided(ctx, r)
		}
		return decision{Approval: toApprovalJSON(r), req: r}, err
	})
}
