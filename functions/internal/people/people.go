// Package people is how one person appears to another who may not be their
// friend: in search results and on a stranger's profile. A card says who
// they are and how they stand to the viewer, and tells namesakes apart with
// what the viewer can judge (friends in common, when they joined), never
// with any part of their email address.
package people

import "github.com/jackc/pgx/v5"

// Card is a person as anyone signed in may see them.
type Card struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Relation is none, outgoing (the viewer asked them), incoming (they
	// asked the viewer) or friends.
	Relation string `json:"relation"`
	// MutualFriends counts the viewer's friends who are also theirs.
	MutualFriends int `json:"mutualFriends"`
	// Joined is the month they signed up, YYYY-MM (UTC): enough to tell two
	// Ann Archers apart, too coarse to date anything.
	Joined string `json:"joined"`
}

// Select reads Cards of the users u, as the viewer $1 sees them; callers
// add WHERE, ORDER BY and LIMIT. Each column is a lookup by key per person
// found, so its cost follows the number of rows returned.
const Select = `
SELECT u.id::text, u.name,
	CASE
		WHEN EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = $1 AND f.friend_id = u.id) THEN 'friends'
		WHEN EXISTS (SELECT 1 FROM friend_requests r WHERE r.status = 'pending' AND r.from_user = $1 AND r.to_user = u.id) THEN 'outgoing'
		WHEN EXISTS (SELECT 1 FROM friend_requests r WHERE r.status = 'pending' AND r.from_user = u.id AND r.to_user = $1) THEN 'incoming'
		ELSE 'none'
	END,
	(SELECT count(*) FROM friendships mine JOIN friendships theirs ON theirs.user_id = u.id AND theirs.friend_id = mine.friend_id
		WHERE mine.user_id = $1)::int,
	to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM')
FROM users u`

// Scan reads one row of Select.
func Scan(row pgx.CollectableRow) (Card, error) {
	var c Card
	return c, row.Scan(&c.ID, &c.Name, &c.Relation, &c.MutualFriends, &c.Joined)
}
