package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// ExpireParcels removes the parcels tracked for too long without news —
// never found in ExpireNotFound, final for ExpireFinal, or found but idle
// for ExpireIdle, and added by every chat tracking them at least that long
// ago (a chat that just added a code gets the full time) — after queuing
// one message to each active chat tracking them. Removing a parcel removes
// its events and tracked rows; messages already queued stay in the outbox.
// Each parcel's expiry (its messages and its removal) is kept whole in one
// transaction; like SaveResults, a long expiry commits between parcels
// every MaxWriteHold (see shortTx). It returns how many it removed and how
// many messages it queued, counting what was committed.
func (s *Store) ExpireParcels(ctx context.Context, render RenderFunc) (expired, queued int, err error) {
	now := s.now()
	notFound := now.Add(-ExpireNotFound).Unix()
	final := now.Add(-ExpireFinal).Unix()
	idle := now.Add(-ExpireIdle).Unix()
	const chunk = 500
	var txExpired, txQueued int
	yield := false
	for {
		rows, err := s.db.QueryContext(ctx, `
SELECT p.code, p.state FROM parcels p
WHERE ((p.state IN `+sqlStates(stateNew, stateNotFound)+` AND p.created_at <= ?1
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?1))
    OR (p.state = '`+stateFinal+`' AND p.final_at <= ?2
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?2))
    OR (p.state = '`+stateActive+`' AND MAX(COALESCE(p.last_event_at, 0), COALESCE(p.found_at, p.created_at)) <= ?3
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?3)))
LIMIT `+strconv.Itoa(chunk), notFound, final, idle)
		if err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
		type exp struct {
			code string
			kind NoticeKind
		}
		var list []exp
		for rows.Next() {
			var code, state string
			if err := rows.Scan(&code, &state); err != nil {
				rows.Close()
				return expired, queued, fmt.Errorf("store: expire: %w", err)
			}
			k := NoticeExpiredIdle
			switch state {
			case stateNew, stateNotFound:
				k = NoticeExpiredNotFound
			case stateFinal:
				k = NoticeExpiredFinal
			}
			list = append(list, exp{code, k})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
		if len(list) == 0 {
			return expired, queued, nil
		}
		cut := false
		err = s.shortTx(ctx, yield, func(tx *sql.Tx, hold *holdTimer) error {
			w := s.newSaver(tx, render)
			txExpired, txQueued = 0, 0
			for _, e := range list {
				n, err := w.notifyAll(ctx, e.code, e.kind)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "DELETE FROM parcels WHERE code = ?", e.code); err != nil {
					return err
				}
				txQueued += n
				txExpired++
				if hold.over() {
					cut = true // the parcels left still qualify: the next query finds them
					break
				}
			}
			return nil
		})
		if err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
		expired += txExpired
		queued += txQueued
		if len(list) < chunk && !cut {
			return expired, queued, nil
		}
		yield = true
	}
}
