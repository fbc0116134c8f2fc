import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { describeError } from '../api/client';
import { api } from '../api/tidings';
import type { Person, PersonCard } from '../api/types';
import { Avatar } from '../components/Avatar';
import { cardDetails } from '../people/card';
import { PageHeading } from '../components/PageHeading';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { useLive } from '../notifications/LiveContext';

/** Everything this page reads is cached under this key, so one invalidation refreshes it all. */
const friendsKey = ['friends'] as const;

function PersonRow({ person, note, details, children }: { person: Person; note?: string; details?: string; children?: ReactNode }) {
  return (
    <li className="person">
      <Avatar id={person.id} name={person.name} />
      <div className="person__who">
        <span className="person__name">{person.name}</span>
        {details && <span className="muted person__note">{details}</span>}
        {note && <span className="muted person__note">{note}</span>}
      </div>
      <div className="person__actions">{children}</div>
    </li>
  );
}

/** A button whose accessible name also says whom it is for ("Accept: Ann"). */
function ActionButton({
  label,
  who,
  onClick,
  busy,
  variant = 'secondary',
}: {
  label: string;
  who: string;
  onClick: () => void;
  busy: boolean;
  variant?: 'primary' | 'secondary' | 'danger';
}) {
  const cls = variant === 'primary' ? 'button button--small' : `button button--small button--${variant}`;
  return (
    <button type="button" className={cls} onClick={onClick} disabled={busy} aria-label={`${label}: ${who}`}>
      {label}
    </button>
  );
}

export function FriendsPage() {
  const searchId = useId();
  const [query, setQuery] = useState('');
  // The search that runs: what was typed, after a short pause (or at once on submit).
  const [term, setTerm] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  // Reloads overlap (live events, actions); the query cache shows only the
  // newest answer, so an older list can't bring back a request or friend just removed.
  const client = useQueryClient();
  const requests = useQuery({ queryKey: [...friendsKey, 'requests'], queryFn: api.friendRequests });
  const friends = useQuery({ queryKey: [...friendsKey, 'list'], queryFn: api.friends });
  const results = useQuery({
    queryKey: [...friendsKey, 'search', term],
    queryFn: ({ signal }) => api.searchUsers(term, signal),
    enabled: term !== '',
    // The old results stay on screen while the next search runs.
    placeholderData: keepPreviousData,
  });

  useEffect(() => {
    const t = setTimeout(() => setTerm(query.trim()), 300);
    return () => clearTimeout(t);
  }, [query]);

  const refreshAll = useCallback(() => void client.invalidateQueries({ queryKey: friendsKey }), [client]);

  // Someone asking or answering shows up here live.
  const { subscribe, onResync } = useLive();
  useEffect(
    () =>
      subscribe((n) => {
        if (n.type.startsWith('friend.')) refreshAll();
      }),
    [subscribe, refreshAll],
  );
  useEffect(() => onResync(refreshAll), [onResync, refreshAll]);

  async function act(key: string, action: () => Promise<unknown>, done: string) {
    setBusy(key);
    setMessage(null);
    try {
      await action();
      setMessage({ kind: 'ok', text: done });
    } catch (e) {
      setMessage({ kind: 'error', text: describeError(e) });
    } finally {
      setBusy(null);
      setConfirming(null);
      refreshAll();
    }
  }

  function onSearch(e: FormEvent) {
    e.preventDefault();
    const q = query.trim();
    if (q === term) void results.refetch();
    else setTerm(q);
  }

  const incoming = requests.data?.incoming ?? [];
  const outgoing = requests.data?.outgoing ?? [];
  const incomingFrom = (userId: string) => incoming.find((r) => r.from.id === userId);
  const outgoingTo = (userId: string) => outgoing.find((r) => r.to.id === userId);

  function resultActions(u: PersonCard) {
    const key = `user:${u.id}`;
    switch (u.relation) {
      case 'none':
        return (
          <ActionButton
            label="Add friend"
            who={u.name}
            variant="primary"
            busy={busy === key}
            onClick={() =>
              act(key, () => api.sendFriendRequest(u.id), `Friend request sent to ${u.name}.`)
            }
          />
        );
      case 'outgoing': {
        const r = outgoingTo(u.id);
        return r ? (
          <ActionButton
            label="Cancel request"
            who={u.name}
            busy={busy === key}
            onClick={() => act(key, () => api.cancelRequest(r.id), `Request to ${u.name} cancelled.`)}
          />
        ) : (
          <span className="pill">Request sent</span>
        );
      }
      case 'incoming': {
        const r = incomingFrom(u.id);
        return r ? (
          <>
            <ActionButton
              label="Accept"
              who={u.name}
              variant="primary"
              busy={busy === key}
              onClick={() => act(key, () => api.acceptRequest(r.id), `You and ${u.name} are now friends.`)}
            />
            <ActionButton
              label="Decline"
              who={u.name}
              busy={busy === key}
              onClick={() => act(key, () => api.declineRequest(r.id), `Request from ${u.name} declined.`)}
            />
          </>
        ) : (
          <span className="pill">Wants to be friends</span>
        );
      }
      case 'friends':
        return (
          <Link
            className="button button--small button--secondary"
            to={`/users/${encodeURIComponent(u.id)}`}
            aria-label={`View profile: ${u.name}`}
          >
            View profile
          </Link>
        );
    }
  }

  const relationNote: Record<PersonCard['relation'], string | undefined> = {
    none: undefined,
    outgoing: 'Request sent',
    incoming: 'Wants to be your friend',
    friends: 'Friend',
  };

  return (
    <>
      <PageHeading title="Friends" />
      {message && (
        <p className={message.kind === 'ok' ? 'notice' : 'form-error'} role={message.kind === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}

      <section className="card" aria-labelledby={`${searchId}-title`}>
        <h2 id={`${searchId}-title`} className="section-title">
          Find people
        </h2>
        <form role="search" onSubmit={onSearch} className="search">
          <label htmlFor={`${searchId}-q`}>Search people</label>
          <div className="search__row">
            <input
              id={`${searchId}-q`}
              type="search"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              placeholder="A name, or a whole email address"
              autoComplete="off"
            />
            <button type="submit" className="button">
              Search
            </button>
          </div>
        </form>
        {term === '' ? (
          <p className="muted">Type any word of a name (first or last), or someone's whole email address.</p>
        ) : results.isPending ? (
          <Loading label="Searching…" />
        ) : results.isError ? (
          <ErrorState error={results.error} title="Search didn't work" onRetry={() => void results.refetch()} />
        ) : results.data.length === 0 ? (
          <EmptyState title="No one found">
            <p>No name has a word starting with “{term}”. Try another word of their name, or their whole email address.</p>
          </EmptyState>
        ) : (
          <ul className="people" aria-label="Search results">
            {results.data.map((u) => (
              <PersonRow key={u.id} person={u} details={cardDetails(u)} note={relationNote[u.relation]}>
                {resultActions(u)}
              </PersonRow>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby={`${searchId}-req`}>
        <h2 id={`${searchId}-req`} className="section-title">
          Friend requests
        </h2>
        {requests.isPending ? (
          <Loading label="Loading requests…" />
        ) : requests.isError ? (
          <ErrorState error={requests.error} title="Couldn't load requests" onRetry={() => void requests.refetch()} />
        ) : incoming.length === 0 && outgoing.length === 0 ? (
          <p className="muted">No pending requests.</p>
        ) : (
          <>
            {incoming.length > 0 && (
              <>
                <h3 className="subsection-title">Received</h3>
                <ul className="people" aria-label="Requests received">
                  {incoming.map((r) => (
                    <PersonRow key={r.id} person={r.from} note="Wants to be your friend">
                      <ActionButton
                        label="Accept"
                        who={r.from.name}
                        variant="primary"
                        busy={busy === `req:${r.id}`}
                        onClick={() =>
                          act(`req:${r.id}`, () => api.acceptRequest(r.id), `You and ${r.from.name} are now friends.`)
                        }
                      />
                      <ActionButton
                        label="Decline"
                        who={r.from.name}
                        busy={busy === `req:${r.id}`}
                        onClick={() =>
                          act(`req:${r.id}`, () => api.declineRequest(r.id), `Request from ${r.from.name} declined.`)
                        }
                      />
                    </PersonRow>
                  ))}
                </ul>
              </>
            )}
            {outgoing.length > 0 && (
              <>
                <h3 className="subsection-title">Sent</h3>
                <ul className="people" aria-label="Requests sent">
                  {outgoing.map((r) => (
                    <PersonRow key={r.id} person={r.to} note="Waiting for an answer">
                      <ActionButton
                        label="Cancel request"
                        who={r.to.name}
                        busy={busy === `req:${r.id}`}
                        onClick={() =>
                          act(`req:${r.id}`, () => api.cancelRequest(r.id), `Request to ${r.to.name} cancelled.`)
                        }
                      />
                    </PersonRow>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </section>

      <section className="card" aria-labelledby={`${searchId}-friends`}>
        <h2 id={`${searchId}-friends`} className="section-title">
          Your friends
        </h2>
        {friends.isPending ? (
          <Loading label="Loading friends…" />
        ) : friends.isError ? (
          <ErrorState error={friends.error} title="Couldn't load your friends" onRetry={() => void friends.refetch()} />
        ) : friends.data.length === 0 ? (
          <p className="muted">No friends yet. Search above to find people you know.</p>
        ) : (
          <ul className="people" aria-label="Friends list">
            {friends.data.map((f) => (
              <li className="person" key={f.id}>
                <Avatar id={f.id} name={f.name} />
                <div className="person__who">
                  <Link className="person__name" to={`/users/${encodeURIComponent(f.id)}`}>
                    {f.name}
                  </Link>
                </div>
                <div className="person__actions">
                  {confirming === f.id ? (
                    <>
                      <span className="muted">Unfriend {f.name}?</span>
                      <ActionButton
                        label="Yes, unfriend"
                        who={f.name}
                        variant="danger"
                        busy={busy === `friend:${f.id}`}
                        onClick={() => act(`friend:${f.id}`, () => api.unfriend(f.id), `You and ${f.name} are no longer friends.`)}
                      />
                      <ActionButton label="Keep" who={f.name} busy={false} onClick={() => setConfirming(null)} />
                    </>
                  ) : (
                    <ActionButton label="Unfriend" who={f.name} busy={busy !== null} onClick={() => setConfirming(f.id)} />
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
