package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

type businessGroupRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	Name      string `gorm:"column:name"`
	LegalName string `gorm:"column:legal_name"`
	Created   int64  `gorm:"column:created_at"`
	Updated   int64  `gorm:"column:updated_at"`
	Version   int64  `gorm:"column:version"`
}

func (businessGroupRow) TableName() string { return "business_groups" }

var businessGroupMap = mapper[store.BusinessGroup, businessGroupRow]{
	toDomain: func(r businessGroupRow) (store.BusinessGroup, error) {
		return store.BusinessGroup{ID: r.ID, Name: r.Name, LegalName: r.LegalName,
			CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated)}, nil
	},
	fromDomain: func(g store.BusinessGroup) (businessGroupRow, error) {
		return businessGroupRow{ID: g.ID, Name: g.Name, LegalName: g.LegalName,
			Created: micros(g.CreatedAt), Updated: micros(g.UpdatedAt), Version: 1}, nil
	},
	version: func(r *businessGroupRow) *int64 { return &r.Version },
	id:      func(g store.BusinessGroup) string { return g.ID },
	stamp:   func(g *store.BusinessGroup, now time.Time, _ int64) { g.UpdatedAt = now },
}

func (s *Store) CreateBusinessGroup(ctx context.Context, g store.BusinessGroup) (store.BusinessGroup, error) {
	if g.ID == "" {
		g.ID = store.NewID("bg")
	}
	if g.Name == "" {
		return store.BusinessGroup{}, store.Invalid("name", "is required")
	}
	now := s.nowUTC()
	g.CreatedAt, g.UpdatedAt = orNow(g.CreatedAt, now), now
	r, _ := businessGroupMap.fromDomain(g)
	if err := s.insert(ctx, "create business group", &r); err != nil {
		return store.BusinessGroup{}, err
	}
	return businessGroupMap.toDomain(r)
}

func (s *Store) GetBusinessGroup(ctx context.Context, id string) (store.BusinessGroup, error) {
	r, err := take[businessGroupRow](ctx, s, "get business group", "id = ?", id)
	if err != nil {
		return store.BusinessGroup{}, err
	}
	return businessGroupMap.toDomain(r)
}

func (s *Store) ListBusinessGroups(ctx context.Context) ([]store.BusinessGroup, error) {
	var rows []businessGroupRow
	if err := s.read(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list business groups", err)
	}
	return mapAll(rows, businessGroupMap.toDomain)
}

func (s *Store) UpdateBusinessGroup(ctx context.Context, id string, fn func(store.BusinessGroup) (store.BusinessGroup, error)) (store.BusinessGroup, error) {
	return casUpdate(ctx, s, "update business group", id, businessGroupMap, fn)
}

type legalEntityRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	Name            string `gorm:"column:name"`
	LegalName       string `gorm:"column:legal_name"`
	AddressLine1    string `gorm:"column:address_line1"`
	AddressLine2    string `gorm:"column:address_line2"`
	City            string `gorm:"column:city"`
	Region          string `gorm:"column:region"`
	PostalCode      string `gorm:"column:postal_code"`
	Country         string `gorm:"column:country"`
	Email           string `gorm:"column:email"`
	Phone           string `gorm:"column:phone"`
	Language        string `gorm:"column:language"`
	Created         int64  `gorm:"column:created_at"`
	Updated         int64  `gorm:"column:updated_at"`
	Version         int64  `gorm:"column:version"`
}

func (legalEntityRow) TableName() string { return "legal_entities" }

var legalEntityMap = mapper[store.LegalEntity, legalEntityRow]{
	toDomain: func(r legalEntityRow) (store.LegalEntity, error) {
		return store.LegalEntity{ID: r.ID, BusinessGroupID: r.BusinessGroupID, Name: r.Name, LegalName: r.LegalName,
			Contact: store.Contact{AddressLine1: r.AddressLine1, AddressLine2: r.AddressLine2, City: r.City, Region: r.Region,
				PostalCode: r.PostalCode, Country: r.Country, Email: r.Email, Phone: r.Phone, Language: r.Language},
			CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated)}, nil
	},
	fromDomain: func(e store.LegalEntity) (legalEntityRow, error) {
		c := e.Contact
		return legalEntityRow{ID: e.ID, BusinessGroupID: e.BusinessGroupID, Name: e.Name, LegalName: e.LegalName,
			AddressLine1: c.AddressLine1, AddressLine2: c.AddressLine2, City: c.City, Region: c.Region,
			PostalCode: c.PostalCode, Country: c.Country, Email: c.Email, Phone: c.Phone, Language: c.Language,
			Created: micros(e.CreatedAt), Updated: micros(e.UpdatedAt), Version: 1}, nil
	},
	version: func(r *legalEntityRow) *int64 { return &r.Version },
	id:      func(e store.LegalEntity) string { return e.ID },
	stamp:   func(e *store.LegalEntity, now time.Time, _ int64) { e.UpdatedAt = now },
	check: func(old, e store.LegalEntity) error {
		if e.BusinessGroupID != old.BusinessGroupID {
			return store.Invalid("businessGroupId", "cannot change")
		}
		return nil
	},
}

func (s *Store) CreateLegalEntity(ctx context.Context, e store.LegalEntity) (store.LegalEntity, error) {
	if e.ID == "" {
		e.ID = store.NewID("le")
	}
	if e.Name == "" {
		return store.LegalEntity{}, store.Invalid("name", "is required")
	}
	if ok, err := s.exists(ctx, "business_groups", "id = ?", e.BusinessGroupID); err != nil {
		return store.LegalEntity{}, wrap("create legal entity", err)
	} else if !ok {
		return store.LegalEntity{}, fmt.Errorf("gormstore: create legal entity: business group %q: %w", e.BusinessGroupID, store.ErrNotFound)
	}
	now := s.nowUTC()
	e.CreatedAt, e.UpdatedAt = orNow(e.CreatedAt, now), now
	r, _ := legalEntityMap.fromDomain(e)
	if err := s.insert(ctx, "create legal entity", &r); err != nil {
		return store.LegalEntity{}, err
	}
	return legalEntityMap.toDomain(r)
}

func (s *Store) GetLegalEntity(ctx context.Context, id string) (store.LegalEntity, error) {
	r, err := take[legalEntityRow](ctx, s, "get legal entity", "id = ?", id)
	if err != nil {
		return store.LegalEntity{}, err
	}
	return legalEntityMap.toDomain(r)
}

func (s *Store) ListLegalEntities(ctx context.Context, businessGroupID string) ([]store.LegalEntity, error) {
	var rows []legalEntityRow
	if err := s.read(ctx).Where("business_group_id = ?", businessGroupID).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list legal entities", err)
	}
	return mapAll(rows, legalEntityMap.toDomain)
}

func (s *Store) UpdateLegalEntity(ctx context.Context, id string, fn func(store.LegalEntity) (store.LegalEntity, error)) (store.LegalEntity, error) {
	return casUpdate(ctx, s, "update legal entity", id, legalEntityMap, fn)
}

type serviceAgreementRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	LegalEntityID   string `gorm:"column:legal_entity_id"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	Number          string `gorm:"column:number"`
	Created         int64  `gorm:"column:created_at"`
}

func (serviceAgreementRow) TableName() string { return "service_agreements" }

func (r serviceAgreementRow) domain() store.ServiceAgreement {
	return store.ServiceAgreement{ID: r.ID, LegalEntityID: r.LegalEntityID, BusinessGroupID: r.BusinessGroupID,
		Number: r.Number, CreatedAt: fromMicros(r.Created)}
}

func (s *Store) CreateServiceAgreement(ctx context.Context, a store.ServiceAgreement) (store.ServiceAgreement, error) {
	if a.ID == "" {
		a.ID = store.NewID("sa")
	}
	if a.Number == "" {
		return store.ServiceAgreement{}, store.Invalid("number", "is required")
	}
	le, err := s.GetLegalEntity(ctx, a.LegalEntityID)
	if err != nil {
		return store.ServiceAgreement{}, fmt.Errorf("gormstore: create service agreement: legal entity: %w", err)
	}
	if a.BusinessGroupID == "" {
		a.BusinessGroupID = le.BusinessGroupID
	} else if a.BusinessGroupID != le.BusinessGroupID {
		return store.ServiceAgreement{}, store.Invalid("businessGroupId", "is not the legal entity's business group")
	}
	r := serviceAgreementRow{ID: a.ID, LegalEntityID: a.LegalEntityID, BusinessGroupID: a.BusinessGroupID,
		Number: a.Number, Created: micros(orNow(a.CreatedAt, s.nowUTC()))}
	if err := s.insert(ctx, "create service agreement", &r); err != nil {
		return store.ServiceAgreement{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListServiceAgreements(ctx context.Context, legalEntityID string) ([]store.ServiceAgreement, error) {
	var rows []serviceAgreementRow
	if err := s.read(ctx).Where("legal_entity_id = ?", legalEntityID).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list service agreements", err)
	}
	out := make([]store.ServiceAgreement, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
