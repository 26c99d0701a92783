package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// CatchUp queues the notifications owed to chats that lag behind their
// parcels' events: a chat that added a code another chat already tracks
// (its first message: the current status) and a chat that was paused and
// resumed (every event it missed). It returns how many it queued. Like
// SaveResults, it commits every MaxWriteHold.
func (s *Store) CatchUp(ctx context.Context, render RenderFunc) (int, error) {
	const chunk = 500
	total, yield := 0, false
	for {
		rows, err := s.db.QueryContext(ctx, `
SELECT DISTINCT t.code FROM tracked t
JOIN parcels p ON p.code = t.code
JOIN chats c ON c.id = t.chat_id
WHERE c.paused_at IS NULL AND t.notified_event_id < p.last_event_id
  AND p.state IN `+sqlStates(stateActive, stateFinal)+`
LIMIT `+strconv.Itoa(chunk))
		if err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		var codes []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return total, fmt.Errorf("store: catch up: %w", err)
			}
			codes = append(codes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		if len(codes) == 0 {
			return total, nil
		}
		cut := false
		err = s.shortTx(ctx, yield, func(tx *sql.Tx, hold *holdTimer) error {
			w := s.newSaver(tx, render)
			for _, code := range codes {
				p, err := w.load(ctx, code)
				if err != nil {
					return err
				}
				if p == nil {
					continue
				}
				n, err := w.notifyLagging(ctx, code, p.lastEventID, -1, nil, nil, false)
				if err != nil {
					return err
				}
				total += n
				if hold.over() {
					cut = true // the codes left are still lagging: the next query finds them
					break
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		if len(codes) < chunk && !cut {
			return total, nil
		}
		yield = true
	}
}
