import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../api/client';
import { api } from '../api/tidings';
import type { Post } from '../api/types';
import { MAX_POST_CHARS, PICTURE_TYPES, validatePicture, validatePostText } from '../posts/rules';
import { charLength } from '../text/charLength';
import { asSentence } from '../text/sentence';

type Phase = 'idle' | 'uploading' | 'posting';

const NOT_A_PICTURE = "That file isn't a picture we can show. Pick a PNG, JPEG, GIF or WebP.";
const TOO_BIG = 'Pictures can be up to 10 MB.';

interface Props {
  onPosted: (post: Post) => void;
  uploadPicture?: typeof api.uploadPicture;
  createPost?: typeof api.createPost;
}

/** Writes a post: text, an optional picture with a preview, upload progress. */
export function Composer({ onPosted, uploadPicture = api.uploadPicture, createPost = api.createPost }: Props) {
  const id = useId();
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [textError, setTextError] = useState<string>();
  const [pictureError, setPictureError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState(0);
  const [status, setStatus] = useState('');
  const textRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const abortRef = useRef<AbortController | null>(null);
  // An upload that worked is kept, so a retry after a failed post does not send the picture twice.
  const uploaded = useRef<{ file: File; id: string } | null>(null);

  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  useEffect(
    () => () => {
      if (preview) URL.revokeObjectURL(preview);
    },
    [preview],
  );

  useEffect(() => () => abortRef.current?.abort(), []);

  // The text box is disabled while posting, and a disabled control cannot take
  // focus: after a post the focus goes back once the box is enabled again.
  const refocusText = useRef(false);
  useEffect(() => {
    if (phase === 'idle' && refocusText.current) {
      refocusText.current = false;
      textRef.current?.focus();
    }
  }, [phase]);

  function pickFile(f: File | null) {
    setPictureError(undefined);
    setFormError(undefined);
    if (!f) {
      setFile(null);
      return;
    }
    const err = validatePicture(f);
    if (err) {
      setPictureError(err);
      setFile(null);
      if (fileRef.current) fileRef.current.value = '';
      return;
    }
    setFile(f);
  }

  function removePicture() {
    setFile(null);
    setPictureError(undefined);
    if (fileRef.current) {
      fileRef.current.value = '';
      fileRef.current.focus();
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (phase !== 'idle') return;
    setFormError(undefined);
    setStatus('');
    const err = validatePostText(text, file !== null);
    setTextError(err);
    if (err) {
      textRef.current?.focus();
      return;
    }
    try {
      let fileId: string | undefined;
      if (file) {
        if (uploaded.current?.file === file) {
          fileId = uploaded.current.id;
        } else {
          setPhase('uploading');
          setProgress(0);
          setStatus('Uploading picture…');
          abortRef.current = new AbortController();
          const res = await uploadPicture(
            file,
            (p) => setProgress(p.total > 0 ? Math.round((p.loaded / p.total) * 100) : 0),
            abortRef.current.signal,
          );
          uploaded.current = { file, id: res.id };
          fileId = res.id;
          setProgress(100);
        }
      }
      setPhase('posting');
      setStatus('Posting…');
      const post = await createPost(fileId ? { text: text.trim(), fileId } : { text: text.trim() });
      uploaded.current = null;
      setText('');
      setFile(null);
      if (fileRef.current) fileRef.current.value = '';
      setStatus('Posted.');
      onPosted(post);
      refocusText.current = true;
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') {
        setStatus('Upload cancelled.');
      } else if (e instanceof ApiError && (e.status === 413 || e.status === 415)) {
        setPictureError(e.status === 413 ? TOO_BIG : NOT_A_PICTURE);
        setStatus('');
      } else if (e instanceof ApiError && (e.fieldErrors.text || e.fieldErrors.fileId || e.fieldErrors.file)) {
        setTextError(e.fieldErrors.text && asSentence(e.fieldErrors.text));
        const picture = e.fieldErrors.fileId || e.fieldErrors.file;
        setPictureError(picture && asSentence(picture));
        setStatus('');
      } else {
        setFormError(describeError(e));
        setStatus('');
      }
    } finally {
      setPhase('idle');
      abortRef.current = null;
    }
  }

  const busy = phase !== 'idle';
  const n = charLength(text);
  const textHelp = `${id}-count`;
  return (
    <form className="card composer" onSubmit={submit} noValidate aria-label="New post">
      <div className={`field${textError ? ' field--invalid' : ''}`}>
        <label htmlFor={`${id}-text`}>What's new?</label>
        <textarea
          ref={textRef}
          id={`${id}-text`}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            if (textError) setTextError(undefined);
          }}
          rows={3}
          placeholder="Share some news with your friends"
          aria-invalid={textError ? true : undefined}
          aria-describedby={[textHelp, textError ? `${id}-text-error` : ''].filter(Boolean).join(' ')}
          disabled={busy}
        />
        <p id={textHelp} className={`field__hint composer__count${n > MAX_POST_CHARS ? ' over' : ''}`}>
          {n} / {MAX_POST_CHARS}
        </p>
        {textError && (
          <p id={`${id}-text-error`} className="field__error">
            {textError}
          </p>
        )}
      </div>

      {preview && file && (
        <figure className="composer__preview">
          <img src={preview} alt={`Preview of ${file.name}`} />
          <figcaption>
            <span>{file.name}</span>
            <button type="button" className="button button--link" onClick={removePicture} disabled={busy}>
              Remove picture
            </button>
          </figcaption>
        </figure>
      )}

      {phase === 'uploading' && (
        <div className="composer__progress">
          <label htmlFor={`${id}-progress`}>Uploading picture: {progress}%</label>
          <progress id={`${id}-progress`} max={100} value={progress} />
          <button type="button" className="button button--link" onClick={() => abortRef.current?.abort()}>
            Cancel upload
          </button>
        </div>
      )}

      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}

      <div className="composer__actions">
        <div className={`field field--file${pictureError ? ' field--invalid' : ''}`}>
          <label htmlFor={`${id}-file`} className="button button--secondary file-button">
            {file ? 'Change picture' : 'Add a picture'}
          </label>
          <input
            ref={fileRef}
            id={`${id}-file`}
            className="visually-hidden-file"
            type="file"
            accept={PICTURE_TYPES.join(',')}
            onChange={(e) => pickFile(e.target.files?.[0] ?? null)}
            aria-invalid={pictureError ? true : undefined}
            aria-describedby={pictureError ? `${id}-file-error` : undefined}
            disabled={busy}
          />
          {pictureError && (
            <p id={`${id}-file-error`} className="field__error">
              {pictureError}
            </p>
          )}
        </div>
        <button type="submit" className="button" disabled={busy}>
          {phase === 'uploading' ? 'Uploading…' : phase === 'posting' ? 'Posting…' : 'Post'}
        </button>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
    </form>
  );
}
