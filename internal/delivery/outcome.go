package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

// Telegram's answers, one method each:
//   - accepted → the row is deleted (sent);
//   - 429 → wait retry_after and resend the same message; every send
//     waits, since Telegram does not say which limit was hit and the
//     likeliest one we do not model is the bot's global limit (the bot's
//     replies share it). A window that ends after the pass's bound leaves
//     the message for the next pass (not_before) and ends delivery
//     (retryAfter);
//   - 400 migrate_to_chat_id → move the chat and resend (migrated);
//   - 403 or chat not found → pause the chat: its messages stay in the
//     outbox and go out when the person writes to the bot again (blocked);
//   - 401 → stop, the token is wrong (unauthorized);
//   - anything else → retried next pass; a 400 (this message is wrong) is
//     given up after MaxAttempts, network and server errors after
//     transientAttempts times that (failed).

// handle acts on Telegram's answer for one message.
func (d *Delivery) handle(ctx context.Context, r result) error {
	defer r.release()
	d.q.Answered(r.msg, r.slot, r.at)
	if r.err == nil {
		return d.sent(ctx, r)
	}
	te, _ := telegram.AsError(r.err)
	switch class := telegram.ClassOf(r.err); class {
	case telegram.RetryAfter:
		wait := time.Second
		if te != nil && te.RetryAfter > 0 {
			wait = te.RetryAfter
		}
		return d.retryAfter(ctx, r, wait)
	case telegram.Migrated:
		if te != nil && te.MigrateTo != 0 && te.MigrateTo != r.msg.ChatID {
			return d.migrated(ctx, r, te.MigrateTo)
		}
		return d.failed(ctx, r, class)
	case telegram.Blocked:
		return d.blocked(ctx, r)
	case telegram.Unauthorized:
		d.logFor(r).Error("telegram rejected the bot token", slog.Any("error", r.err))
		return ErrTelegramAuth
	case telegram.NotModified:
		d.q.Done(r.msg)
		return d.store.DeleteOutbox(ctx, r.msg.ID)
	default:
		return d.failed(ctx, r, class)
	}
}

func (d *Delivery) logFor(r result) *slog.Logger {
	return d.log.With(slog.Int64("chat_id", r.msg.ChatID), slog.String("code", r.msg.Code))
}

// sent: Telegram accepted the message.
func (d *Delivery) sent(ctx context.Context, r result) error {
	d.stats.Sent++
	d.failedInARow = 0
	if err := d.store.DeleteOutbox(ctx, r.msg.ID); err != nil {
		// Its row stays (a full disk takes no writes): sending on would
		// read it again and send it again and again. Delivery stops for
		// this pass; the messages in flight finish. Only those (at most
		// MaxInFlight) can repeat at the next pass, as after a kill -9.
		d.logFor(r).Error("a delivered message could not be removed from the outbox; delivery stops for this pass so nothing is sent twice",
			slog.Bool("disk_full", store.IsDiskFull(err)), slog.Any("error", err))
		d.q.Skip(r.msg) // held: never offered again this pass
		if d.stats.OutboxStuck == nil {
			d.stats.OutboxStuck = err
		}
		return errStop
	}
	d.q.Done(r.msg)
	return d.topUp(ctx, r.msg.ChatID)
}

// retryAfter: a 429.
func (d *Delivery) retryAfter(ctx context.Context, r result, wait time.Duration) error {
	d.stats.Retried429++
	until := r.at.Add(wait + windowMargin)
	d.q.Pause(r.msg, until)
	d.logFor(r).Warn("telegram asked to slow down; every send waits", slog.Duration("retry_after", wait))
	if !until.After(d.deadline) {
		return nil
	}
	if _, err := d.store.DeferOutbox(ctx, r.msg.ID, until, false); err != nil {
		return err
	}
	d.q.Drop(r.msg.ChatID)
	// Nothing may go out before the bound: stop waiting.
	d.log.Warn("telegram asked to wait past this pass's bound; delivery left for the next pass",
		slog.Duration("retry_after", wait))
	return errStop
}

// migrated: the group became a supergroup; its rows now belong to the new
// id, and the message is sent there.
func (d *Delivery) migrated(ctx context.Context, r result, to int64) error {
	if err := d.store.MigrateChat(ctx, r.msg.ChatID, to); err != nil {
		return err
	}
	d.stats.MigratedChats++
	d.logFor(r).Info("chat moved to a supergroup", slog.Int64("new_chat_id", to))
	d.q.Move(r.msg.ChatID, to)
	return nil
}

// blocked: the person blocked the bot, or the bot left the group.
func (d *Delivery) blocked(ctx context.Context, r result) error {
	d.stats.PausedChats++
	d.logFor(r).Warn("chat paused: telegram will not deliver to it", slog.Any("error", r.err))
	d.q.Drop(r.msg.ChatID)
	return d.store.PauseChat(ctx, r.msg.ChatID)
}

// failed: anything else. A message deferred to a later time holds back
// its chat's later ones (store.PendingOutbox keeps each chat in order),
// which is right when Telegram or the network failed. A message Telegram
// refused for itself (400) must not hold the others: it stays due, and
// only this pass leaves it alone.
func (d *Delivery) failed(ctx context.Context, r result, class telegram.Class) error {
	d.stats.Failed++
	d.failedInARow++
	now := d.clock.Now()
	retryAt, limit := now.Add(time.Minute), transientAttempts*d.opt.MaxAttempts
	if class == telegram.BadRequest {
		retryAt, limit = now, d.opt.MaxAttempts
	}
	n, err := d.store.DeferOutbox(ctx, r.msg.ID, retryAt, true)
	if err != nil {
		return err
	}
	log := d.logFor(r)
	if n >= limit {
		log.Error("notification given up", slog.Int("attempts", n), slog.Any("error", r.err))
		if err := d.store.DeleteOutbox(ctx, r.msg.ID); err != nil {
			return err
		}
	} else {
		log.Warn("notification not sent; retried next pass", slog.Int("attempts", n), slog.Any("error", r.err))
	}
	if class == telegram.BadRequest {
		d.q.Skip(r.msg) // only this message is wrong; the chat's others may go
		if err := d.topUp(ctx, r.msg.ChatID); err != nil {
			return err
		}
	} else {
		d.q.Drop(r.msg.ChatID) // keep the chat's order: its later messages wait too
	}
	if d.failedInARow >= 2*MaxInFlight {
		d.log.Warn("telegram keeps failing; delivery left for the next pass")
		return errStop
	}
	return nil
}
