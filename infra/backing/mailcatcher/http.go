package mailcatcher

import (
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// The JSON shapes below follow Mailpit's API (field names included) so that
// tooling written for Mailpit can read from us.

type summaryJSON struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Cc        []Address
	Subject   string
	Created   time.Time
	Snippet   string
	Size      int
}

type listJSON struct {
	Total         int           `json:"total"`
	Count         int           `json:"count"`
	MessagesCount int           `json:"messages_count"`
	Start         int           `json:"start"`
	Messages      []summaryJSON `json:"messages"`
}

type messageJSON struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Cc        []Address
	Subject   string
	Date      time.Time
	Text      string
	HTML      string
	Size      int
}

func (c *Catcher) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/messages", c.listMessages)
	mux.HandleFunc("DELETE /api/v1/messages", c.deleteMessages)
	mux.HandleFunc("GET /api/v1/message/{id}", c.getMessage)
	mux.HandleFunc("GET /api/v1/message/{id}/raw", c.getRaw)
	mux.HandleFunc("GET /{$}", c.indexPage)
	mux.HandleFunc("GET /view/{id}", c.messagePage)
	return mux
}

func (c *Catcher) listMessages(w http.ResponseWriter, r *http.Request) {
	start, err1 := intParam(r, "start", 0)
	limit, err2 := intParam(r, "limit", 50)
	if err1 != nil || err2 != nil || start < 0 || limit < 0 {
		writeJSONError(w, http.StatusBadRequest, "start and limit must be non-negative integers")
		return
	}
	msgs, _ := c.store.newestFirst()
	page := msgs[min(start, len(msgs)):min(start+limit, len(msgs))]
	out := listJSON{Total: len(msgs), MessagesCount: len(msgs), Start: start, Count: len(page), Messages: []summaryJSON{}}
	for _, m := range page {
		out.Messages = append(out.Messages, summaryJSON{
			ID: m.ID, MessageID: m.MessageID, From: m.From, To: nonNil(m.To), Cc: nonNil(m.Cc),
			Subject: m.Subject, Created: m.Created, Snippet: m.Snippet(), Size: m.Size,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Catcher) getMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := c.store.get(r.PathValue("id"))
	if !ok {
		writeJSONError(w, http.StatusNotFound, "message not found")
		return
	}
	writeJSON(w, http.StatusOK, messageJSON{
		ID: m.ID, MessageID: m.MessageID, From: m.From, To: nonNil(m.To), Cc: nonNil(m.Cc),
		Subject: m.Subject, Date: m.Date, Text: m.Text, HTML: m.HTML, Size: m.Size,
	})
}

func (c *Catcher) getRaw(w http.ResponseWriter, r *http.Request) {
	m, ok := c.store.get(r.PathValue("id"))
	if !ok {
		writeJSONError(w, http.StatusNotFound, "message not found")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(m.Raw)
}

// deleteMessages deletes the IDs in a {"IDs":[...]} body, or every message
// when there is no body (Mailpit's semantics).
func (c *Catcher) deleteMessages(w http.ResponseWriter, r *http.Request) {
	var req struct{ IDs []string }
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "cannot read body")
		return
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeJSONError(w, http.StatusBadRequest, "body must be {\"IDs\": [...]}")
			return
		}
	}
	if _, err := c.store.remove(req.IDs); err != nil {
		slog.Error("mailcatcher: delete", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "could not update the store")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

// html/template escapes every field: mail content is attacker-controlled.
var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Tidings mail catcher</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{padding:.4em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}.snip{color:#666}</style>
</head><body>
<h1>Captured mail ({{len .}})</h1>
<p>JSON: <a href="/api/v1/messages">/api/v1/messages</a></p>
{{if .}}<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>
{{range .}}<tr><td>{{.Created.Format "2006-01-02 15:04:05"}}</td><td>{{.From.Address}}</td>
<td>{{range $i, $a := .To}}{{if $i}}, {{end}}{{$a.Address}}{{end}}</td>
<td><a href="/view/{{.ID}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a><div class="snip">{{.Snippet}}</div></td></tr>
{{end}}</table>{{else}}<p>No mail yet. Send to SMTP and reload.</p>{{end}}
</body></html>
`))

var messageTmpl = template.Must(template.New("message").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}iframe{width:100%;height:30em;border:1px solid #ddd}</style>
</head><body>
<p><a href="/">← all mail</a> · <a href="/api/v1/message/{{.ID}}">JSON</a> · <a href="/api/v1/message/{{.ID}}/raw">raw</a></p>
<h1>{{.Subject}}</h1>
<p>From: {{.From.Name}} &lt;{{.From.Address}}&gt;<br>To: {{range $i, $a := .To}}{{if $i}}, {{end}}{{$a.Name}} &lt;{{$a.Address}}&gt;{{end}}</p>
{{if .Text}}<h2>Text</h2><pre>{{.Text}}</pre>{{end}}
{{if .HTML}}<h2>HTML</h2><iframe sandbox srcdoc="{{.HTML}}"></iframe>{{end}}
</body></html>
`))

func (c *Catcher) indexPage(w http.ResponseWriter, _ *http.Request) {
	msgs, _ := c.store.newestFirst()
	renderPage(w, indexTmpl, msgs)
}

func (c *Catcher) messagePage(w http.ResponseWriter, r *http.Request) {
	m, ok := c.store.get(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	renderPage(w, messageTmpl, m)
}

func renderPage(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The HTML body is shown in a sandboxed iframe; nothing else may run.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'")
	if err := t.Execute(w, data); err != nil {
		slog.Error("mailcatcher: render page", "err", err)
	}
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

func nonNil(a []Address) []Address {
	if a == nil {
		return []Address{}
	}
	return a
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Error("mailcatcher: write JSON", "err", err)
	}
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"Error": msg})
}
