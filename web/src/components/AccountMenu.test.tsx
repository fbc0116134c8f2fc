import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { json } from '../testing/fakeFetch';
import { renderApp, stubWebSocketPerTest } from '../testing/renderApp';

stubWebSocketPerTest();

const routes = {
  'GET /api/posts': () => json(200, { posts: [], nextCursor: null }),
  'POST /api/logout': () => json(204, undefined),
};

const accountButton = () => screen.findByRole('button', { name: 'Account: Ann' });

describe('the account menu', () => {
  it('is a menu button: no permanent "Log out", and the menu opens, moves and closes from the keyboard', async () => {
    renderApp('/', routes);
    const button = await accountButton();
    expect(button).toHaveAttribute('aria-haspopup', 'menu');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('button', { name: 'Log out' })).not.toBeInTheDocument();
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();

    const user = userEvent.setup();
    button.focus();
    await user.keyboard('{Enter}');
    expect(button).toHaveAttribute('aria-expanded', 'true');
    const menu = screen.getByRole('menu', { name: 'Account: Ann' });
    expect(menu).toBeVisible();
    expect(screen.getByRole('menuitem', { name: 'Log out' })).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('menuitem', { name: 'Log out everywhere' })).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('menuitem', { name: 'Log out' })).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(screen.getByRole('menuitem', { name: 'Log out everywhere' })).toHaveFocus();
    await user.keyboard('{Home}');
    expect(screen.getByRole('menuitem', { name: 'Log out' })).toHaveFocus();
    await user.keyboard('{End}');
    expect(screen.getByRole('menuitem', { name: 'Log out everywhere' })).toHaveFocus();

    await user.keyboard('{Escape}');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(button).toHaveFocus();

    // ArrowUp opens on the last item; a click elsewhere closes.
    await user.keyboard('{ArrowUp}');
    expect(screen.getByRole('menuitem', { name: 'Log out everywhere' })).toHaveFocus();
    await user.click(screen.getByRole('heading', { level: 1, name: 'Your feed' }));
    expect(button).toHaveAttribute('aria-expanded', 'false');
  });

  it('"Log out" ends this session only', async () => {
    const { api } = renderApp('/', routes);
    const user = userEvent.setup();
    await user.click(await accountButton());
    await user.click(screen.getByRole('menuitem', { name: 'Log out' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/logout']);
  });

  it('"Log out everywhere" ends every session of the account', async () => {
    const { api } = renderApp('/', routes);
    const user = userEvent.setup();
    await user.click(await accountButton());
    await user.click(screen.getByRole('menuitem', { name: 'Log out everywhere' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/logout?all=1']);
  });
});
