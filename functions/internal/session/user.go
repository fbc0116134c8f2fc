package session

// User is the account a session belongs to, as the API answers with it
// (POST /api/signup, POST /api/login, GET /api/me).
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}
