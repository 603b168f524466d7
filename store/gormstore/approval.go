package gormstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

type approvalRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	LegalEntityID   string `gorm:"column:legal_entity_id"`
	Kind            string `gorm:"column:kind"`
	Permission      string `gorm:"column:permission"`
	Right           int64  `gorm:"column:right_exercised"`
	TargetID        string `gorm:"column:target_id"`
	TargetVersion   int64  `gorm:"column:target_version"`
	Payload         string `gorm:"column:payload"`
	InitiatorID     string `gorm:"column:initiator_id"`
	Status          string `gorm:"column:status"`
	Reason          string `gorm:"column:reason"`
	DecidedBy       string `gorm:"column:decided_by"`
	DecidedAt       int64  `gorm:"column:decided_at"`
	Created         int64  `gorm:"column:created_at"`
}

func (approvalRow) TableName() string { return "approvals" }

func (r approvalRow) domain() store.ApprovalRequest {
	return store.ApprovalRequest{ID: r.ID, BusinessGroupID: r.BusinessGroupID, LegalEntityID: r.LegalEntityID,
		Kind: store.ApprovalKind(r.Kind), Permission: store.Permission(r.Permission), Right: store.Right(r.Right),
		TargetID: r.TargetID, TargetVersion: r.TargetVersion, Payload: toRaw(r.Payload), InitiatorID: r.InitiatorID,
		Status: store.ApprovalStatus(r.Status), Reason: r.Reason, DecidedBy: r.DecidedBy,
		DecidedAt: fromMicros(r.DecidedAt), CreatedAt: fromMicros(r.Created)}
}

func (s *Store) CreateApproval(ctx context.Context, a store.ApprovalRequest) (store.ApprovalRequest, error) {
	if a.ID == "" {
		a.ID = store.NewID("apr")
	}
	if a.Status == "" {
		a.Status = store.ApprovalPending
	}
	if a.Kind == "" {
		return store.ApprovalRequest{}, store.Invalid("kind", "is required")
	}
	r := approvalRow{ID: a.ID, BusinessGroupID: a.BusinessGroupID, LegalEntityID: a.LegalEntityID, Kind: string(a.Kind),
		Permission: string(a.Permission), Right: int64(a.Right), TargetID: a.TargetID, TargetVersion: a.TargetVersion,
		Payload: rawOrEmpty(a.Payload), InitiatorID: a.InitiatorID, Status: string(a.Status), Reason: a.Reason,
		DecidedBy: a.DecidedBy, DecidedAt: micros(a.DecidedAt), Created: micros(orNow(a.CreatedAt, s.nowUTC()))}
	if err := s.insert(ctx, "create approval", &r); err != nil {
		return store.ApprovalRequest{}, err
	}
	return r.domain(), nil
}

func (s *Store) GetApproval(ctx context.Context, id string) (store.ApprovalRequest, error) {
	r, err := take[approvalRow](ctx, s, "get approval", "id = ?", id)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListApprovals(ctx context.Context, f store.ApprovalFilter, p store.Page) ([]store.ApprovalRequest, string, error) {
	q := s.read(ctx).Model(&approvalRow{}).Where("business_group_id = ?", f.BusinessGroupID)
	if f.Status != nil {
		q = q.Where("status = ?", string(*f.Status))
	}
	if f.InitiatorID != nil {
		q = q.Where("initiator_id = ?", *f.InitiatorID)
	}
	rows, next, err := pageByID(q, p, func(r approvalRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list approvals", err)
	}
	out := make([]store.ApprovalRequest, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// DecideApproval is a conditional UPDATE on status = pending: the database
// lets exactly one of concurrent deciders match the row.
func (s *Store) DecideApproval(ctx context.Context, id string, status store.ApprovalStatus, by, reason string, at time.Time) (store.ApprovalRequest, error) {
	switch status {
	case store.ApprovalApproved, store.ApprovalRejected, store.ApprovalCancelled:
	default:
		return store.ApprovalRequest{}, store.Invalid("status", "a decision is APPROVED, REJECTED or CANCELLED")
	}
	if at.IsZero() {
		at = s.nowUTC()
	}
	var out store.ApprovalRequest
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.write(ctx).Model(&approvalRow{}).
			Where("id = ? AND status = ?", id, string(store.ApprovalPending)).
			Updates(map[string]any{"status": string(status), "decided_by": by, "reason": reason, "decided_at": micros(at)})
		if res.Error != nil {
			return wrap("decide approval", res.Error)
		}
		cur, err := s.GetApproval(ctx, id)
		if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("gormstore: decide approval: request already %s: %w", cur.Status, store.ErrConflict)
		}
		out = cur
		return nil
	})
	return out, err
}

type notificationRow struct {
	ID          string `gorm:"column:id;primaryKey"`
	RecipientID string `gorm:"column:recipient_id"`
	Kind        string `gorm:"column:kind"`
	Text        string `gorm:"column:text"`
	RequestID   string `gorm:"column:request_id"`
	Read        bool   `gorm:"column:is_read"`
	Created     int64  `gorm:"column:created_at"`
}

func (notificationRow) TableName() string { return "notifications" }

func (r notificationRow) domain() store.Notification {
	return store.Notification{ID: r.ID, RecipientID: r.RecipientID, Kind: r.Kind, Text: r.Text,
		RequestID: r.RequestID, Read: r.Read, CreatedAt: fromMicros(r.Created)}
}

func (s *Store) CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	if n.ID == "" {
		n.ID = store.NewID("ntf")
	}
	r := notificationRow{ID: n.ID, RecipientID: n.RecipientID, Kind: n.Kind, Text: n.Text, RequestID: n.RequestID,
		Read: n.Read, Created: micros(orNow(n.CreatedAt, s.nowUTC()))}
	if err := s.insert(ctx, "create notification", &r); err != nil {
		return store.Notification{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListNotifications(ctx context.Context, recipientID string, unreadOnly bool, p store.Page) ([]store.Notification, string, error) {
	q := s.read(ctx).Model(&notificationRow{}).Where("recipient_id = ?", recipientID)
	if unreadOnly {
		q = q.Where("is_read = ?", false)
	}
	rows, next, err := pageByID(q, p, func(r notificationRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list notifications", err)
	}
	out := make([]store.Notification, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

func (s *Store) MarkNotificationRead(ctx context.Context, recipientID, id string) error {
	res := s.write(ctx).Model(&notificationRow{}).Where("id = ? AND recipient_id = ?", id, recipientID).
		Update("is_read", true)
	if res.Error != nil {
		return wrap("mark notification read", res.Error)
	}
	if res.RowsAffected == 0 {
		// SQLite and PostgreSQL count matched rows, so 0 means absent (or
		// another recipient's).
		return fmt.Errorf("gormstore: mark notification read: %w", store.ErrNotFound)
	}
	return nil
}

type auditRow struct {
	Seq             int64  `gorm:"column:seq;primaryKey;autoIncrement:false"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	ActorID         string `gorm:"column:actor_id"`
	Action          string `gorm:"column:action"`
	TargetType      string `gorm:"column:target_type"`
	TargetID        string `gorm:"column:target_id"`
	RequestID       string `gorm:"column:request_id"`
	RemoteAddr      string `gorm:"column:remote_addr"`
	UserAgent       string `gorm:"column:user_agent"`
	Outcome         string `gorm:"column:outcome"`
	HTTPRequestID   string `gorm:"column:http_request_id"`
	Before          string `gorm:"column:before_json"`
	After           string `gorm:"column:after_json"`
	At              int64  `gorm:"column:at"`
}

func (auditRow) TableName() string { return "audit_events" }

func (r auditRow) domain() store.AuditEvent {
	return store.AuditEvent{Seq: r.Seq, BusinessGroupID: r.BusinessGroupID, ActorID: r.ActorID, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, RequestID: r.RequestID, RemoteAddr: r.RemoteAddr,
		UserAgent: r.UserAgent, Outcome: r.Outcome, HTTPRequestID: r.HTTPRequestID, Before: toRaw(r.Before), After: toRaw(r.After), At: fromMicros(r.At)}
}

func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if e.Action == "" {
		return store.AuditEvent{}, store.Invalid("action", "is required")
	}
	r := auditRow{BusinessGroupID: e.BusinessGroupID, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, RequestID: e.RequestID, RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Outcome: e.Outcome, HTTPRequestID: e.HTTPRequestID,
		Before: rawOrEmpty(e.Before), After: rawOrEmpty(e.After), At: micros(orNow(e.At, s.nowUTC()))}
	var err error
	if s.dialect == dialectPostgres {
		r.Seq, err = s.appendAuditOnce(ctx, r)
	} else {
		// SQLite has one writer: the counter is never waited for.
		err = s.tx(ctx, func(db *gorm.DB) error {
			seq, err := nextSeq(db, "audit", 1)
			if err != nil {
				return err
			}
			r.Seq = seq
			return db.Create(&r).Error
		})
	}
	if err != nil {
		return store.AuditEvent{}, wrap("append audit", err)
	}
	return r.domain(), nil
}

// appendAuditOnce numbers and writes an event in one PostgreSQL statement.
// Every audited request locks the counter row until its transaction ends;
// taken by a statement of its own, the row stayed locked across two more
// round trips (the insert, the commit), and under load the appends queued
// behind one another (issue 15). Here it is locked only while the server
// runs this statement and, outside a caller's transaction, its commit.
func (s *Store) appendAuditOnce(ctx context.Context, r auditRow) (int64, error) {
	const q = `WITH n AS (UPDATE seq_counters SET value = value + 1 WHERE name = 'audit' RETURNING value)
	INSERT INTO audit_events (seq, business_group_id, actor_id, action, target_type, target_id, request_id,
		remote_addr, user_agent, outcome, http_request_id, before_json, after_json, at)
	SELECT value, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM n RETURNING seq`
	var seq int64
	found := false
	err := s.writeQuery(ctx, q, []any{r.BusinessGroupID, r.ActorID, r.Action, r.TargetType, r.TargetID, r.RequestID,
		r.RemoteAddr, r.UserAgent, r.Outcome, r.HTTPRequestID, r.Before, r.After, r.At}, func(row rowScanner) error {
		found = true
		return row.Scan(&seq)
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errors.New("reserve audit seq: counter missing (migrations not applied?)")
	}
	return seq, nil
}

func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]store.AuditEvent, string, error) {
	after, err := parseSeqCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	n := limit(p.Limit)
	q := s.read(ctx).Model(&auditRow{}).Where("seq > ?", after)
	if f.BusinessGroupID != nil {
		q = q.Where("business_group_id = ?", *f.BusinessGroupID)
	}
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.TargetID != nil {
		q = q.Where("target_id = ?", *f.TargetID)
	}
	if f.Action != nil {
		q = q.Where("action = ?", *f.Action)
	}
	if f.ActionPrefix != nil && *f.ActionPrefix != "" {
		// substr, not LIKE: "_" and "%" in a prefix are plain characters, and
		// SQLite's LIKE would ignore case. Both count characters, not bytes.
		q = q.Where("substr(action, 1, ?) = ?", utf8.RuneCountInString(*f.ActionPrefix), *f.ActionPrefix)
	}
	if f.Outcome != nil {
		q = q.Where("outcome = ?", *f.Outcome)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", micros(f.Until))
	}
	var rows []auditRow
	if err := q.Order("seq").Limit(n + 1).Find(&rows).Error; err != nil {
		return nil, "", wrap("list audit", err)
	}
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		next = strconv.FormatInt(rows[n-1].Seq, 10)
	}
	out := make([]store.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}
