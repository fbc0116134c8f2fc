// The two-person story, played in real Chromium against a running
// Tidings (BASE_URL, default http://localhost:8080): two people sign up and
// become friends, one posts a picture, the other sees it arrive live and
// opens it from the notification, notifications group and follow across
// tabs, one logs out, and a stranger sees a name and an "Add friend" button
// but no posts; a cancelled request takes its notification back. Screenshots of the main pages are
// saved to web/test-results/screenshots/, and axe-core checks each of them
// (no serious or critical violation).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gradientPng } from './png.mjs';

const BASE_URL = (process.env.BASE_URL || 'http://localhost:8080').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));
// Live events cross Kafka and several functions (some may start from zero).
const LIVE_TIMEOUT = Number(process.env.E2E_LIVE_TIMEOUT_MS || 60_000);
const UI_TIMEOUT = 15_000;
const AXE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'));

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const people = {
  ann: { name: `Ann ${run}`, email: `ann-${run}@example.com`, password: `ann-secret-${run}` },
  bob: { name: `Bob ${run}`, email: `bob-${run}@example.com`, password: `bob-secret-${run}` },
  cy: { name: `Cy ${run}`, email: `cy-${run}@example.com`, password: `cy-secret-${run}` },
};
const postText = `Sunset over the harbour — ${run}`;

let browser;
const pages = {};
let annId;
let pictureSrc;
let postId;

/** Polls until fn returns a truthy value, or fails with `what` after the timeout. */
async function until(what, fn, timeout = UI_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function bell(page) {
  return page.getByRole('link', { name: /^Notifications,/ });
}

async function unreadCount(page) {
  const label = (await bell(page).getAttribute('aria-label', { timeout: UI_TIMEOUT })) ?? '';
  const m = label.match(/(\d+) unread/);
  return m ? Number(m[1]) : 0;
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** A screenshot, and axe-core on the page as it is: no serious or critical violation. */
async function look(page, name) {
  await shot(page, name);
  await page.addScriptTag({ path: AXE });
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `axe-core on ${name}`);
}

/** What has the keyboard focus: tag, and the label or text that names it. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const label = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : null;
    return `${el.tagName.toLowerCase()}: ${(label ?? el.textContent ?? '').trim()}`;
  });
}

async function newPerson(key, viewport) {
  // bypassCSP lets axe-core's script in; the app itself runs under its CSP in every other respect.
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('pageerror', (err) => console.error(`[${key}] page error: ${err.message}`));
  pages[key] = page;
  return page;
}

async function signUp(page, person, screenshot) {
  await page.goto('/signup');
  await page.getByRole('heading', { level: 1, name: 'Create your account' }).waitFor();
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  if (screenshot) await look(page, screenshot);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
  // The focus follows to the new page's heading, not back to the top of the document.
  await until('the focus on the feed heading after signup', async () => (await focused(page)) === 'h1: Your feed');
}

async function me(page) {
  const res = await page.request.get('/api/me');
  return { status: res.status(), body: res.ok() ? await res.json() : null };
}

/** The feed article whose text is `text`. */
function postArticle(page, text) {
  return page.getByRole('article').filter({ hasText: text });
}

async function imageLoaded(img) {
  return img.evaluate((el) => el.complete && el.naturalWidth > 0);
}

// Steps share one story; after a failure the rest are skipped, not piled on.
let broken = null;
async function step(t, name, fn) {
  await t.test(name, async (st) => {
    if (broken) {
      st.skip(`"${broken}" failed first`);
      return;
    }
    try {
      await fn();
    } catch (err) {
      broken = name;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      for (const [who, page] of Object.entries(pages)) {
        await shot(page, `failed-${slug}-${who}`).catch(() => {});
      }
      throw err;
    }
  });
}

before(async () => {
  // Fail fast and plainly when nothing is listening.
  let res;
  try {
    res = await fetch(`${BASE_URL}/api/me`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(
      `Tidings is not reachable at ${BASE_URL} (${err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.cause?.message ?? err.message}). ` +
        'Start the local stack first, or point BASE_URL at a running Tidings.',
    );
  }
  if (res.status !== 401) {
    throw new Error(`${BASE_URL}/api/me answered ${res.status} to a visitor without a session; expected 401 from the session function. Is the API behind the gateway?`);
  }
  const home = await fetch(`${BASE_URL}/`, { signal: AbortSignal.timeout(10_000) });
  const html = await home.text();
  if (!home.ok || !html.includes('id="root"')) {
    throw new Error(`${BASE_URL}/ does not serve the built web app (status ${home.status}). Build it with "npm run build" in web/.`);
  }
  // The app's code goes out compressed and cached for good; the page that names it is revalidated.
  assert.equal(home.headers.get('cache-control'), 'no-cache', 'index.html is revalidated');
  const script = html.match(/<script[^>]+src="([^"]+\.js)"/)?.[1];
  assert.ok(script, 'index.html names its script');
  const js = await fetch(`${BASE_URL}${script}`, { headers: { 'Accept-Encoding': 'br, gzip' }, signal: AbortSignal.timeout(10_000) });
  assert.ok(['br', 'gzip'].includes(js.headers.get('content-encoding')), `the script is compressed (Content-Encoding ${js.headers.get('content-encoding')})`);
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'the hashed script is cached for good');
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

test('two friends share a picture live; a stranger is refused', { timeout: 6 * 60_000 }, async (t) => {
  await step(t, 'Ann and Bob sign up', async () => {
    const ann = await newPerson('ann', { width: 1100, height: 800 });
    const bob = await newPerson('bob', { width: 375, height: 812 }); // phone width
    await signUp(ann, people.ann, 'signup-form');
    await look(ann, 'feed-empty');
    await signUp(bob, people.bob);
    const a = await me(ann);
    assert.equal(a.status, 200);
    assert.equal(a.body.name, people.ann.name);
    annId = a.body.id;
    // a second signup with the same email is refused next to the email field
    const dup = await newPerson('dup', { width: 800, height: 700 });
    await dup.goto('/signup');
    await dup.getByLabel('Your name').fill('Someone Else');
    await dup.getByLabel('Email').fill(people.ann.email.toUpperCase());
    await dup.getByLabel('Password').fill('another password');
    await dup.getByRole('button', { name: 'Sign up' }).click();
    await until('the duplicate-email error on the email field', async () => (await dup.getByLabel('Email').getAttribute('aria-invalid')) === 'true');
    await look(dup, 'signup-duplicate-email');
    // One step to log in instead, the address filled in.
    await dup.getByRole('link', { name: 'Log in with this email' }).click();
    await dup.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    assert.equal(await dup.getByLabel('Email').inputValue(), people.ann.email.toUpperCase());
    await dup.context().close();
    delete pages.dup;
  });

  await step(t, 'Bob finds Ann and sends a friend request', async () => {
    const bob = pages.bob;
    await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Friends' }).click();
    await bob.getByRole('heading', { level: 1, name: 'Friends' }).waitFor();
    // Any word of a name finds it: the run tag is Ann's last word.
    await bob.getByRole('searchbox', { name: 'Search people' }).fill(run);
    await bob.getByRole('button', { name: 'Search', exact: true }).click();
    const results = bob.getByRole('list', { name: 'Search results' });
    // Something tells namesakes apart, and it is not the email.
    await results.getByText(/No friends in common · Joined \w+ \d{4}/).waitFor();
    assert.equal(await results.getByText(people.ann.email).count(), 0, 'search shows no email');
    await look(bob, 'search-results-phone');
    await results.getByRole('button', { name: `Add friend: ${people.ann.name}` }).click();
    await bob.getByText(`Friend request sent to ${people.ann.name}.`).waitFor();
    await bob.getByRole('list', { name: 'Requests sent' }).getByText(people.ann.name).waitFor();
  });

  await step(t, 'Ann hears about the request live and accepts it', async () => {
    const ann = pages.ann;
    await until('Ann\'s bell to count the friend request', async () => (await unreadCount(ann)) >= 1, LIVE_TIMEOUT);
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Friends' }).click();
    const received = ann.getByRole('list', { name: 'Requests received' });
    await received.getByRole('button', { name: `Accept: ${people.bob.name}` }).click();
    await ann.getByText(`You and ${people.bob.name} are now friends.`).waitFor();
    await ann.getByRole('list', { name: 'Friends list' }).getByRole('link', { name: people.bob.name }).waitFor();
    await look(ann, 'friends');
  });

  await step(t, 'Bob hears that Ann accepted, and reads his notifications', async () => {
    const bob = pages.bob;
    await until('Bob\'s bell to count the acceptance', async () => (await unreadCount(bob)) >= 1, LIVE_TIMEOUT);
    await bell(bob).click();
    await bob.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await bob.getByRole('list', { name: 'Notifications' }).getByText(people.ann.name, { exact: false }).first().waitFor();
    await look(bob, 'notifications');
    await bob.getByRole('button', { name: 'Mark all as read' }).click();
    await until('Bob\'s bell to show none unread', async () => (await unreadCount(bob)) === 0);
    await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed' }).click();
    await bob.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    // Marks this document: if anything reloads the page, the mark is gone.
    await bob.evaluate(() => {
      window.__tidingsStory = 'same page';
    });
    await until('Bob\'s live connection to be open', async () => (await bell(bob).getAttribute('data-connection')) === 'open');
  });

  await step(t, 'Ann posts a picture', async () => {
    const ann = pages.ann;
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    await ann.getByLabel("What's new?").fill(postText);
    await ann.getByLabel('Add a picture').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: gradientPng(96, 1200, 3) });
    const preview = ann.getByRole('img', { name: 'Preview of harbour.png' });
    await preview.waitFor();
    assert.ok(await until('the preview to load', () => imageLoaded(preview)));
    await look(ann, 'composer-preview');
    await ann.getByRole('button', { name: 'Post', exact: true }).click();
    const mine = postArticle(ann, postText);
    await mine.waitFor();
    await until('the focus back in the text box after posting', async () => (await focused(ann)) === "textarea: What's new?");
    const img = mine.getByRole('img', { name: `Posted by ${people.ann.name}` });
    assert.ok(await until('Ann\'s own picture to load', () => imageLoaded(img)));
    pictureSrc = await img.getAttribute('src');
    assert.ok(pictureSrc && !pictureSrc.startsWith('blob:'), `the post shows the server's picture, got ${pictureSrc}`);
    await look(ann, 'feed-after-post');
  });

  await step(t, 'Bob sees the notification and the post with its picture, without a reload', async () => {
    const bob = pages.bob;
    await until('Bob\'s bell to count Ann\'s post', async () => (await unreadCount(bob)) >= 1, LIVE_TIMEOUT);
    const post = postArticle(bob, postText);
    await post.waitFor({ timeout: LIVE_TIMEOUT });
    const img = post.getByRole('img', { name: `Posted by ${people.ann.name}` });
    assert.ok(await until('the picture in Bob\'s feed to load', () => imageLoaded(img)));
    const natural = await img.evaluate((el) => el.naturalWidth);
    assert.equal(natural, 96, 'the picture is the one Ann uploaded');
    const shown = await img.boundingBox();
    assert.ok(shown && shown.height <= 480, `a tall picture is capped in the feed (shown ${shown?.height} px tall)`);
    await until('the unread count in the tab title', async () => /^\(\d+\) /.test(await bob.title()));
    assert.equal(await bob.evaluate(() => window.__tidingsStory), 'same page', 'the feed updated without a reload');
    await look(bob, 'feed-live-phone');
    await bell(bob).click();
    const unreadBefore = await unreadCount(bob);
    const note = bob.getByRole('list', { name: 'Notifications' }).getByRole('link', { name: new RegExp(`${people.ann.name} posted`) }).first();
    await note.waitFor();
    await note.click();
    // "Ann posted" opens the post itself.
    await bob.getByRole('heading', { level: 1, name: `Post by ${people.ann.name}` }).waitFor();
    await postArticle(bob, postText).waitFor();
    postId = new URL(bob.url()).pathname.match(/^\/posts\/([0-9a-f-]{36})$/)?.[1];
    assert.ok(postId, `the notification opened /posts/<id>, not ${bob.url()}`);
    await look(bob, 'post-phone');
    await until('opening the notification to mark it read', async () => (await unreadCount(bob)) === unreadBefore - 1);
  });

  await step(t, 'Bob opens Ann\'s profile and sees her posts', async () => {
    const bob = pages.bob;
    await bob.goto(`/users/${encodeURIComponent(annId)}`);
    await bob.getByRole('heading', { level: 1, name: people.ann.name }).waitFor();
    await postArticle(bob, postText).waitFor();
    await look(bob, 'profile-friend');
  });

  await step(t, 'Back from a profile keeps Bob\'s loaded feed pages', async () => {
    const ann = pages.ann;
    const bob = pages.bob;
    // 25 more posts: two pages of feed.
    for (let i = 1; i <= 25; i++) {
      const res = await ann.request.post('/api/posts', { headers: { 'X-Requested-With': 'tidings' }, data: { text: `Harbour news ${i} — ${run}` } });
      assert.equal(res.status(), 201, `post ${i}`);
    }
    await bob.goto('/');
    await postArticle(bob, `Harbour news 25 — ${run}`).waitFor({ timeout: LIVE_TIMEOUT });
    await bob.getByRole('button', { name: 'Load more posts' }).click();
    const first = postArticle(bob, postText);
    await first.waitFor();
    await first.scrollIntoViewIfNeeded();
    const loaded = await bob.getByRole('article').count();
    const y = await bob.evaluate(() => window.scrollY);
    assert.ok(loaded > 20 && y > 1000, `two pages loaded and scrolled down (${loaded} posts, ${y} px)`);
    await first.getByRole('link', { name: people.ann.name }).click();
    await bob.getByRole('heading', { level: 1, name: people.ann.name }).waitFor();
    await bob.goBack();
    await bob.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    assert.ok((await bob.getByRole('article').count()) >= loaded, 'the loaded pages are still there');
    await until('the feed back where Bob left it', async () => Math.abs((await bob.evaluate(() => window.scrollY)) - y) < 40);
  });

  await step(t, 'Ann\'s posts are one notification row, and "mark all read" reaches Bob\'s other tab', async () => {
    const bob = pages.bob;
    const other = await bob.context().newPage();
    other.setDefaultTimeout(UI_TIMEOUT);
    pages.bobTab2 = other;
    await other.goto('/');
    await other.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    await until('the second tab\'s live connection to be open', async () => (await bell(other).getAttribute('data-connection')) === 'open');
    await bell(bob).click();
    const list = bob.getByRole('list', { name: 'Notifications' });
    const grouped = list.getByRole('link', { name: new RegExp(`^Unread: ${people.ann.name} posted \\d+ times$`) });
    await grouped.waitFor({ timeout: LIVE_TIMEOUT });
    const rows = await list.getByRole('listitem').filter({ hasText: `${people.ann.name} posted` }).count();
    assert.ok(rows <= 2, `Ann's 25 posts make at most two rows (one unread, one read), not ${rows}`);
    await look(bob, 'notifications-grouped-phone');
    await until('the second tab to count the unread posts', async () => (await unreadCount(other)) > 0);
    await bob.getByRole('button', { name: 'Mark all as read' }).click();
    await until('Bob\'s bell to show none unread', async () => (await unreadCount(bob)) === 0);
    await until('the other tab\'s bell to follow', async () => (await unreadCount(other)) === 0);
    await other.close();
    delete pages.bobTab2;
  });

  await step(t, 'Ann posts a picture without any text', async () => {
    const ann = pages.ann;
    await ann.goto('/');
    await ann.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    const pictures = ann.getByRole('img', { name: `Posted by ${people.ann.name}` });
    const before = await pictures.count();
    await ann.getByLabel('Add a picture').setInputFiles({ name: 'only.png', mimeType: 'image/png', buffer: gradientPng(64, 64, 5) });
    await ann.getByRole('img', { name: 'Preview of only.png' }).waitFor();
    await ann.getByRole('button', { name: 'Post', exact: true }).click();
    await until('the picture-only post in the feed', async () => (await pictures.count()) === before + 1);
    assert.equal(await ann.getByText('Write something or add a picture.').count(), 0, 'no complaint about the missing text');
  });

  await step(t, 'Ann logs out', async () => {
    const ann = pages.ann;
    await ann.getByRole('button', { name: 'Log out' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    assert.equal((await me(ann)).status, 401, 'the session is gone');
    await ann.goto('/friends');
    await ann.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    const picture = await ann.request.get(pictureSrc);
    assert.ok(!picture.ok(), `a logged-out visitor must not get the picture (got ${picture.status()})`);
    await look(ann, 'login');
    // A wrong password: the focus goes back into the form, not to the top of the page.
    await ann.getByLabel('Email').fill(people.ann.email);
    await ann.getByLabel('Password').fill('not my password');
    await ann.getByRole('button', { name: 'Log in' }).click();
    await ann.getByRole('alert').waitFor();
    await until('the focus back in the login form', async () => (await focused(ann)) === 'input: Email');
  });

  await step(t, 'A stranger sees Ann\'s name and "Add friend", but not her posts or picture', async () => {
    const cy = await newPerson('cy', { width: 1100, height: 800 });
    await signUp(cy, people.cy);
    await cy.goto(`/users/${encodeURIComponent(annId)}`);
    await cy.getByRole('heading', { level: 1, name: people.ann.name }).waitFor();
    await cy.getByRole('button', { name: 'Add friend' }).waitFor();
    assert.equal(await cy.getByRole('alert').count(), 0, 'no error box');
    assert.equal(await postArticle(cy, postText).count(), 0, 'the stranger sees none of Ann\'s posts');
    assert.equal(await cy.getByRole('article').count(), 0, 'no posts at all');
    await look(cy, 'profile-stranger');
    const single = await cy.request.get(`/api/posts/${postId}`);
    assert.equal(single.status(), 404, 'the single post is hidden from strangers');
    const picture = await cy.request.get(pictureSrc);
    assert.equal(picture.status(), 404, 'the picture is hidden from strangers');
    await cy.goto('/');
    await cy.getByRole('heading', { level: 1, name: 'Your feed' }).waitFor();
    await cy.getByText('Nothing here yet').waitFor();
    assert.equal(await postArticle(cy, postText).count(), 0, 'Ann\'s post is not in the stranger\'s feed');
  });

  await step(t, 'Cy asks Bob, then cancels: Bob\'s notification goes away', async () => {
    const cy = pages.cy;
    const bob = pages.bob;
    await bell(bob).click();
    await bob.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const bobId = (await me(bob)).body.id;
    await cy.goto(`/users/${encodeURIComponent(bobId)}`);
    await cy.getByRole('button', { name: 'Add friend' }).click();
    await cy.getByText(/Friend request sent/).waitFor();
    const request = bob.getByRole('list', { name: 'Notifications' }).getByRole('link', { name: new RegExp(`${people.cy.name} sent you a friend request`) });
    await request.waitFor({ timeout: LIVE_TIMEOUT });
    const sent = await (await cy.request.get('/api/friends/requests')).json();
    const id = sent.outgoing.find((r) => r.to.id === bobId)?.id;
    assert.ok(id, 'Cy\'s request is pending');
    const res = await cy.request.delete(`/api/friends/requests/${id}`, { headers: { 'X-Requested-With': 'tidings' } });
    assert.equal(res.status(), 204);
    await until('the cancelled request to leave Bob\'s list', async () => (await request.count()) === 0, LIVE_TIMEOUT);
  });
});
