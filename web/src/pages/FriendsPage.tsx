import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { describeError } from '../api/client';
import { api } from '../api/tidings';
import type { FriendRequest, Person, SearchResult } from '../api/types';
import { Avatar } from '../components/Avatar';
import { PageHeading } from '../components/PageHeading';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { useLive } from '../notifications/LiveContext';

type Load<T> = { status: 'loading' } | { status: 'ready'; data: T } | { status: 'error'; error: unknown };

function PersonRow({ person, note, children }: { person: Person; note?: string; children?: ReactNode }) {
  return (
    <li className="person">
      <Avatar id={person.id} name={person.name} />
      <div className="person__who">
        <span className="person__name">{person.name}</span>
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
  const [results, setResults] = useState<Load<SearchResult[]> | null>(null);
  const [requests, setRequests] = useState<Load<{ incoming: FriendRequest[]; outgoing: FriendRequest[] }>>({
    status: 'loading',
  });
  const [friends, setFriends] = useState<Load<Person[]>>({ status: 'loading' });
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const searchSeq = useRef(0);
  const lastQuery = useRef('');

  // Reloads overlap (live events, actions): only the newest answer is shown,
  // so an older list can't bring back a request or friend just removed.
  const requestsSeq = useRef(0);
  const friendsSeq = useRef(0);
  const loadRequests = useCallback(() => {
    const seq = ++requestsSeq.current;
    api.friendRequests().then(
      (data) => seq === requestsSeq.current && setRequests({ status: 'ready', data }),
      (error: unknown) => seq === requestsSeq.current && setRequests({ status: 'error', error }),
    );
  }, []);
  const loadFriends = useCallback(() => {
    const seq = ++friendsSeq.current;
    api.friends().then(
      (data) => seq === friendsSeq.current && setFriends({ status: 'ready', data }),
      (error: unknown) => seq === friendsSeq.current && setFriends({ status: 'error', error }),
    );
  }, []);

  const runSearch = useCallback((q: string) => {
    const seq = ++searchSeq.current;
    lastQuery.current = q;
    if (q.trim() === '') {
      setResults(null);
      return;
    }
    setResults((r) => (r && r.status === 'ready' ? r : { status: 'loading' }));
    api.searchUsers(q.trim()).then(
      (data) => seq === searchSeq.current && setResults({ status: 'ready', data }),
      (error: unknown) => seq === searchSeq.current && setResults({ status: 'error', error }),
    );
  }, []);

  useEffect(() => {
    loadRequests();
    loadFriends();
  }, [loadRequests, loadFriends]);

  // Search as you type, after a short pause.
  useEffect(() => {
    const t = setTimeout(() => runSearch(query), 300);
    return () => clearTimeout(t);
  }, [query, runSearch]);

  const refreshAll = useCallback(() => {
    loadRequests();
    loadFriends();
    if (lastQuery.current.trim()) runSearch(lastQuery.current);
  }, [loadRequests, loadFriends, runSearch]);

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
    runSearch(query);
  }

  const incoming = requests.status === 'ready' ? requests.data.incoming : [];
  const outgoing = requests.status === 'ready' ? requests.data.outgoing : [];
  const incomingFrom = (userId: string) => incoming.find((r) => r.from.id === userId);
  const outgoingTo = (userId: string) => outgoing.find((r) => r.to.id === userId);

  function resultActions(u: SearchResult) {
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

  const relationNote: Record<SearchResult['relation'], string | undefined> = {
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
              placeholder="Name or email"
              autoComplete="off"
            />
            <button type="submit" className="button">
              Search
            </button>
          </div>
        </form>
        {results === null ? (
          <p className="muted">Type a name or an email address to find people you know.</p>
        ) : results.status === 'loading' ? (
          <Loading label="Searching…" />
        ) : results.status === 'error' ? (
          <ErrorState error={results.error} title="Search didn't work" onRetry={() => runSearch(query)} />
        ) : results.data.length === 0 ? (
          <EmptyState title="No one found">
            <p>Nobody's name or email starts with “{lastQuery.current.trim()}”.</p>
          </EmptyState>
        ) : (
          <ul className="people" aria-label="Search results">
            {results.data.map((u) => (
              <PersonRow key={u.id} person={u} note={relationNote[u.relation]}>
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
        {requests.status === 'loading' ? (
          <Loading label="Loading requests…" />
        ) : requests.status === 'error' ? (
          <ErrorState error={requests.error} title="Couldn't load requests" onRetry={loadRequests} />
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
        {friends.status === 'loading' ? (
          <Loading label="Loading friends…" />
        ) : friends.status === 'error' ? (
          <ErrorState error={friends.error} title="Couldn't load your friends" onRetry={loadFriends} />
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
