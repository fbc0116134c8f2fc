import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useMe } from '../auth/AuthContext';
import { Avatar } from './Avatar';

export interface AccountAction {
  label: string;
  run: () => unknown;
}

/**
 * The signed-in person's name and face, opening a menu of account actions.
 * The WAI-ARIA menu button pattern (w3c/aria-practices
 * content/patterns/menu-button/examples/menu-button-actions.html): Enter,
 * Space and ArrowDown open on the first item, ArrowUp on the last; arrows,
 * Home and End move; Escape closes and gives the focus back to the button;
 * Tab or a click elsewhere closes.
 */
/** `busy` replaces the name while an action runs; the button stays enabled so the focus it holds is never dropped. */
export function AccountMenu({ actions, busy }: { actions: AccountAction[]; busy?: string }) {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const items = useRef<(HTMLButtonElement | null)[]>([]);
  const id = useId();

  useEffect(() => {
    if (open) items.current[active]?.focus();
  }, [open, active]);

  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!menu.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);

  function openAt(i: number) {
    setActive(i);
    setOpen(true);
  }

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function onButtonKey(e: KeyboardEvent) {
    if (e.key === 'ArrowDown' || e.key === 'Enter' || e.key === ' ') openAt(0);
    else if (e.key === 'ArrowUp') openAt(actions.length - 1);
    else return;
    e.preventDefault();
  }

  function onMenuKey(e: KeyboardEvent) {
    const last = actions.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: active === last ? 0 : active + 1,
      ArrowUp: active === 0 ? last : active - 1,
      Home: 0,
      End: last,
    };
    if (e.key in moves) {
      e.preventDefault();
      setActive(moves[e.key]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  }

  return (
    <div className="account">
      <button
        ref={button}
        type="button"
        id={`${id}-button`}
        className="account__button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={`${id}-menu`}
        onClick={() => (open ? setOpen(false) : openAt(0))}
        onKeyDown={onButtonKey}
      >
        <Avatar id={me.id} name={me.name} size={28} />
        <span className="visually-hidden">Account: </span>
        <span className="account__name">{busy ?? me.name}</span>
      </button>
      <div
        ref={menu}
        id={`${id}-menu`}
        role="menu"
        tabIndex={-1}
        aria-labelledby={`${id}-button`}
        className="account__menu"
        hidden={!open}
        onKeyDown={onMenuKey}
      >
        {actions.map((a, i) => (
          <button
            key={a.label}
            ref={(el) => {
              items.current[i] = el;
            }}
            type="button"
            role="menuitem"
            tabIndex={i === active ? 0 : -1}
            className="account__item"
            onClick={() => {
              close();
              void a.run();
            }}
          >
            {a.label}
          </button>
        ))}
      </div>
    </div>
  );
}
