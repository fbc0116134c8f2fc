import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type UploadProgress } from '../api/client';
import type { Post } from '../api/types';
import { Composer } from './Composer';

beforeEach(() => {
  let n = 0;
  URL.createObjectURL = vi.fn(() => `blob:preview-${++n}`);
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => vi.restoreAllMocks());

const png = (name = 'cat.png', size = 2000) => new File([new Uint8Array(size)], name, { type: 'image/png' });
const made = (text: string, src?: string): Post => ({
  id: 'p1',
  author: { id: 'u1', name: 'Ann' },
  text,
  image: src ? { src } : undefined,
  createdAt: new Date().toISOString(),
});

describe('Composer', () => {
  it('gives the focus back to the text box once it is enabled again after posting', async () => {
    const createPost = vi.fn(async (input: { text: string }) => made(input.text));
    render(<Composer onPosted={() => {}} createPost={createPost} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("What's new?"), 'Hello');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    await waitFor(() => expect(screen.getByLabelText("What's new?")).toHaveFocus());
    expect(screen.getByLabelText("What's new?")).toBeEnabled();
  });

  it('previews the picture, shows upload progress, then posts with the file id', async () => {
    let report!: (p: UploadProgress) => void;
    let finish!: (v: { id: string; src: string }) => void;
    const uploadPicture = vi.fn((_f: File, onProgress?: (p: UploadProgress) => void) => {
      report = onProgress!;
      return new Promise<{ id: string; src: string }>((res) => (finish = res));
    });
    const createPost = vi.fn(async (input: { text: string; fileId?: string }) => made(input.text, '/api/files/f1'));
    const onPosted = vi.fn();
    render(<Composer onPosted={onPosted} uploadPicture={uploadPicture} createPost={createPost} />);
    const user = userEvent.setup();

    await user.upload(screen.getByLabelText('Add a picture'), png());
    expect(screen.getByRole('img', { name: 'Preview of cat.png' })).toHaveAttribute('src', 'blob:preview-1');
    await user.type(screen.getByLabelText("What's new?"), 'Look at this cat');
    await user.click(screen.getByRole('button', { name: 'Post' }));

    const bar = await screen.findByRole('progressbar');
    act(() => report({ loaded: 1000, total: 4000 }));
    expect(bar).toHaveAttribute('value', '25');
    expect(screen.getByText('Uploading picture: 25%')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Uploading…' })).toBeDisabled();

    await act(async () => finish({ id: 'f1', src: '/api/files/f1' }));
    await waitFor(() => expect(onPosted).toHaveBeenCalledTimes(1));
    expect(createPost).toHaveBeenCalledWith({ text: 'Look at this cat', fileId: 'f1' });
    expect(screen.queryByRole('img', { name: /Preview/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:preview-1');
  });

  it('refuses a file that is not a picture, before any upload', async () => {
    const uploadPicture = vi.fn();
    render(<Composer onPosted={() => {}} uploadPicture={uploadPicture} createPost={vi.fn()} />);
    const input = screen.getByLabelText('Add a picture');
    // userEvent.upload honours `accept`; a drag-and-drop or a lying browser does not, so fire the change directly
    const pdf = new File(['%PDF'], 'doc.pdf', { type: 'application/pdf' });
    Object.defineProperty(input, 'files', { value: [pdf], configurable: true });
    input.dispatchEvent(new Event('change', { bubbles: true }));
    expect(await screen.findByText('Pick a PNG, JPEG, GIF or WebP picture.')).toBeInTheDocument();
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('img')).not.toBeInTheDocument();
    expect(uploadPicture).not.toHaveBeenCalled();
  });

  it('asks for text and keeps focus in the box', async () => {
    const createPost = vi.fn();
    render(<Composer onPosted={() => {}} createPost={createPost} />);
    await userEvent.click(screen.getByRole('button', { name: 'Post' }));
    const box = screen.getByLabelText("What's new?");
    expect(box).toHaveAccessibleDescription(/Write something or add a picture/);
    expect(box).toHaveFocus();
    expect(createPost).not.toHaveBeenCalled();
  });

  it('posts a picture without any text', async () => {
    const uploadPicture = vi.fn(async () => ({ id: 'f2', src: '/api/files/f2' }));
    const createPost = vi.fn(async (input: { text?: string; fileId?: string }) => made(input.text ?? '', '/api/files/f2'));
    const onPosted = vi.fn();
    render(<Composer onPosted={onPosted} uploadPicture={uploadPicture} createPost={createPost} />);
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Add a picture'), png());
    await user.click(screen.getByRole('button', { name: 'Post' }));
    await waitFor(() => expect(onPosted).toHaveBeenCalledTimes(1));
    expect(createPost).toHaveBeenCalledWith({ text: '', fileId: 'f2' });
    expect(screen.queryByText(/Write something/)).not.toBeInTheDocument();
  });

  it('shows a too-large picture from the server next to the picture, and does not re-upload on retry', async () => {
    const uploadPicture = vi.fn(async () => ({ id: 'f9', src: '/api/files/f9' }));
    let attempt = 0;
    const createPost = vi.fn(async (input: { text: string; fileId?: string }) => {
      attempt++;
      if (attempt === 1) throw new ApiError({ status: 503, title: 'Service Unavailable' });
      return made(input.text);
    });
    render(<Composer onPosted={() => {}} uploadPicture={uploadPicture} createPost={createPost} />);
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Add a picture'), png());
    await user.type(screen.getByLabelText("What's new?"), 'hi');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Tidings is having trouble right now');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    await waitFor(() => expect(createPost).toHaveBeenCalledTimes(2));
    expect(uploadPicture).toHaveBeenCalledTimes(1);
    expect(createPost).toHaveBeenLastCalledWith({ text: 'hi', fileId: 'f9' });
  });

  it('puts a 413 from the upload on the picture field', async () => {
    const uploadPicture = vi.fn(async () => {
      throw new ApiError({ status: 413, title: 'Payload Too Large', detail: 'pictures can be up to 10 MiB' });
    });
    render(<Composer onPosted={() => {}} uploadPicture={uploadPicture} createPost={vi.fn()} />);
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Add a picture'), png());
    await user.type(screen.getByLabelText("What's new?"), 'big one');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    await waitFor(() => expect(screen.getByLabelText('Change picture')).toHaveAccessibleDescription('Pictures can be up to 10 MB.'));
  });

  it('says in words people use that a fake picture was refused (415)', async () => {
    const uploadPicture = vi.fn(async () => {
      throw new ApiError({
        status: 415,
        title: 'Unsupported Media Type',
        detail: 'A picture must be PNG, JPEG, GIF or WebP.',
        fieldErrors: { file: 'must be a PNG, JPEG, GIF or WebP image' },
      });
    });
    render(<Composer onPosted={() => {}} uploadPicture={uploadPicture} createPost={vi.fn()} />);
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Add a picture'), png('fake.png'));
    await user.type(screen.getByLabelText("What's new?"), 'not really a picture');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Change picture')).toHaveAccessibleDescription(
        "That file isn't a picture we can show. Pick a PNG, JPEG, GIF or WebP.",
      ),
    );
  });
});
