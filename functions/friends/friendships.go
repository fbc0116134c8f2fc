package main

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/ids"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

func (f *Function) listFriends(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rows, err := f.pool.Query(ctx, `
		SELECT u.id::text, u.name FROM friendships f JOIN users u ON u.id = f.friend_id
		WHERE f.user_id = $1 ORDER BY lower(u.name), u.id`, session.UserID(ctx))
	if err != nil {
		f.finish(w, r, "list friends", err)
		return
	}
	friends, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (person, error) {
		var p person
		return p, row.Scan(&p.ID, &p.Name)
	})
	if err != nil {
		f.finish(w, r, "list friends", err)
		return
	}
	if friends == nil {
		friends = []person{}
	}
	jsonbody.Write(w, http.StatusOK, map[string]any{"friends": friends})
}

// unfriend removes both rows of a friendship, under the pair lock like every
// other change to it.
func (f *Function) unfriend(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := session.UserID(ctx)
	other, ok := ids.Parse(r.PathValue("userId"))
	if !ok || other == me {
		notFound("You are not friends with this user.").write(w)
		return
	}
	err := f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		if _, err := lockPair(ctx, tx, me, other); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)`, me, other)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("You are not friends with this user.")
		}
		return nil
	})
	if err != nil {
		f.finish(w, r, "unfriend", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
