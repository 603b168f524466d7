package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// Notification texts (the article's step 5, 7 and 9 wording).
const (
	TextSubmitted = "Your request was submitted and is pending approval."
	textPending   = "A request awaits your approval: %s."
	textApproved  = "Your request (%s) was approved."
	textRejected  = "Your request (%s) was rejected: %s"
	textCancelled = "Your request (%s) was cancelled."
	textFailed    = "Your request (%s) could not be applied: %s"
)

var kindLabels = map[store.ApprovalKind]string{
	store.KindCreateUser:         "create a user",
	store.KindDeleteUser:         "delete a user",
	store.KindLockUser:           "lock a user",
	store.KindUnlockUser:         "unlock a user",
	store.KindResetPassword:      "reset a user's password",
	store.KindCreateJobRole:      "create a job role",
	store.KindEditJobRole:        "edit a job role",
	store.KindDeleteJobRole:      "delete a job role",
	store.KindCreateAccountGroup: "create an account group",
	store.KindEditAccountGroup:   "edit an account group",
	store.KindDeleteAccountGroup: "delete an account group",
	store.KindAssign:             "assign a job role and account group",
}

func kindLabel(k store.ApprovalKind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// Outbox records a notification's deliveries outside the API (webhook,
// e-mail) in the transaction that creates it, so a committed notification
// is delivered even if the process stops right after; an error undoes the
// change that notifies. notify.Outbox satisfies it.
type Outbox interface {
	Enqueue(ctx context.Context, n store.Notification) error
}

// newNotification stores a notification and, with an Outbox, its
// deliveries; callers run it in the transaction of the change it reports.
func (s *Server) newNotification(ctx context.Context, to, kind, text, requestID string) error {
	n, err := s.st.CreateNotification(ctx, store.Notification{
		ID: store.NewID("ntf"), RecipientID: to, Kind: kind, Text: text, RequestID: requestID, CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("admin: create notification: %w", err)
	}
	if s.outbox != nil {
		if err := s.outbox.Enqueue(ctx, n); err != nil {
			return fmt.Errorf("admin: enqueue deliveries: %w", err)
		}
	}
	return nil
}

// notifySubmitted tells the initiator their request is pending, and every
// other active user of the group who may approve it (in some context of
// theirs that reaches it: deciders) that it awaits them.
func (s *Server) notifySubmitted(ctx context.Context, req store.ApprovalRequest) error {
	if err := s.newNotification(ctx, req.InitiatorID, "approval.submitted", TextSubmitted, req.ID); err != nil {
		return err
	}
	may, err := s.deciders(ctx, req)
	if err != nil {
		return err
	}
	active := store.UserActive
	users, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.User, string, error) {
		return s.st.ListUsers(ctx, store.UserFilter{BusinessGroupID: req.BusinessGroupID, Status: &active}, p)
	})
	if err != nil {
		return fmt.Errorf("admin: list approvers: %w", err)
	}
	for _, u := range users {
		if u.ID == req.InitiatorID || u.AccountingSoftware {
			continue
		}
		if ok, err := may(ctx, u); err != nil {
			return err
		} else if !ok {
			continue
		}
		if err := s.newNotification(ctx, u.ID, "approval.pending", fmt.Sprintf(textPending, kindLabel(req.Kind)), req.ID); err != nil {
			return err
		}
	}
	return nil
}

// notifyDecided tells the initiator what became of their request.
func (s *Server) notifyDecided(ctx context.Context, req store.ApprovalRequest) error {
	text := fmt.Sprintf(textApproved, kindLabel(req.Kind))
	switch req.Status {
	case store.ApprovalRejected:
		text = fmt.Sprintf(textRejected, kindLabel(req.Kind), req.Reason)
	case store.ApprovalCancelled:
		text = fmt.Sprintf(textCancelled, kindLabel(req.Kind))
	}
	return s.newNotification(ctx, req.InitiatorID, "approval.decided", text, req.ID)
}

type notificationJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	RequestID string    `json:"requestId,omitempty"`
	Read      bool      `json:"read"`
	CreatedAt time.Time `json:"createdAt"`
}

func toNotificationJSON(n store.Notification) notificationJSON {
	return notificationJSON{ID: n.ID, Kind: n.Kind, Text: n.Text, RequestID: n.RequestID, Read: n.Read, CreatedAt: n.CreatedAt.UTC()}
}

func (s *Server) handleListNotifications(c echo.Context) error {
	cl := mustCaller(c)
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	unread, err := apihttp.QueryBool(c, "unread")
	if err != nil {
		return err
	}
	ns, next, err := s.st.ListNotifications(c.Request().Context(), cl.User.ID, unread != nil && *unread, p)
	if err != nil {
		return fmt.Errorf("admin: list notifications: %w", err)
	}
	return apihttp.ListOf(c, ns, next, toNotificationJSON)
}

func (s *Server) handleMarkRead(c echo.Context) error {
	cl := mustCaller(c)
	err := s.st.MarkNotificationRead(c.Request().Context(), cl.User.ID, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apihttp.NotFound("notification", c.Param("id"))
	} else if err != nil {
		return fmt.Errorf("admin: mark read: %w", err)
	}
	return c.NoContent(http.StatusNoContent)
}
