// Generated from functions/apicontract/openapi.yaml by `npm run api:generate`. Do not edit.
export interface paths {
    "/api/signup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account and log in
         * @description Emits dev.tidings.user.signedup.v1 (the welcome email follows). The session cookie is set unless the session store failed after the account was made; the account exists either way and can log in.
         */
        post: operations["signup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log in
         * @description A wrong password, an unknown email and an email or password longer than the signup limits all get the same 401. After 5 failures for one account within 15 minutes the account gets 429 until the window ends. Any session cookie the request carried is ended; the answer sets a new one.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log out
         * @description Ends the session server-side and clears the cookie. The body is ignored; without a session it still answers 204.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The logged-in user */
        get: operations["me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Find people by any word of their name, or by their whole email
         * @description Each word of the query must start a word of the name ("arch" finds "Ann Archer"), whatever the case; a query with @ finds only the owner of exactly that address. Yourself excluded, sorted by name; at most 20 hits.
         */
        get: operations["searchUsers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who someone is, for their profile
         * @description Anyone's card, friend or not: what search shows. Their posts stay behind /api/users/{id}/posts. An unknown or malformed id is 404.
         */
        get: operations["person"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{id}/posts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One person's posts, newest first, and who they are
         * @description For yourself or a friend. Anyone else, an unknown id and a malformed id all get the same 404.
         */
        get: operations["userPosts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends/requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your pending friend requests, both ways
         * @description Newest first; at most 500 each way.
         */
        get: operations["friendRequests"];
        put?: never;
        /**
         * Ask someone to be friends
         * @description Emits dev.tidings.friend.requested.v1. If they had already asked you, this accepts their request instead (status accepted, and dev.tidings.friend.accepted.v1). A malformed user id is 404, like an unknown one.
         */
        post: operations["sendFriendRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends/requests/{id}/accept": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Accept a pending request to you
         * @description Emits dev.tidings.friend.accepted.v1. A request that is not pending, not to you, unknown or malformed is 404.
         */
        post: operations["acceptFriendRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends/requests/{id}/decline": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Decline a pending request to you
         * @description A request that is not pending, not to you, unknown or malformed is 404.
         */
        post: operations["declineFriendRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends/requests/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Cancel a pending request you sent
         * @description A request that is not pending, not from you, unknown or malformed is 404.
         */
        delete: operations["cancelFriendRequest"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your friends, by name */
        get: operations["friends"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/friends/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End a friendship
         * @description Someone you are not friends with, yourself, an unknown id and a malformed id are all 404.
         */
        delete: operations["unfriend"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/posts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your feed, newest first
         * @description Your own posts and your friends', with keyset paging.
         */
        get: operations["feed"];
        put?: never;
        /**
         * Post text, a picture you uploaded, or both
         * @description Emits dev.tidings.post.created.v1; each friend gets a notification.
         */
        post: operations["createPost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/posts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One post, for a link to it
         * @description Your own post or a friend's. Anyone else's post, an unknown id and a malformed id all get the same 404.
         */
        get: operations["post"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload a picture
         * @description The type is read from the bytes (PNG, JPEG, GIF or WebP), never from the client's claim. Form fields other than `file` are skipped. The picture is decoded and stored re-encoded, its pixels alone: EXIF (GPS included), XMP, ICC profiles, text chunks, comments and any bytes after the image are dropped. A JPEG stays a JPEG (quality 90) with its EXIF orientation turned into the pixels; a PNG stays a PNG; a GIF is stored as its first frame, a PNG; a WebP becomes a JPEG when lossy and opaque, a PNG when lossless or with alpha. At most 40 megapixels, fewer for kinds that take more memory to decode (a progressive JPEG, a 16-bit or interlaced PNG, a WebP): the limit is checked from the header, before decoding. Quota counts the bytes stored. The picture is private: only you and your friends can load its `src`.
         */
        post: operations["uploadPicture"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/files/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A picture, for its owner and the owner's friends
         * @description Anyone else, an unknown id and a malformed id all get the same 404. A picture never changes under its id; its ETag is the id. Content-Type is the type it was stored as: PNG or JPEG (pictures stored before uploads were re-encoded may be GIF or WebP).
         */
        get: operations["picture"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your notifications, newest first, and how many are unread */
        get: operations["notifications"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/notifications/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark notifications read
         * @description Ids of notifications that are not yours, or already read, change nothing.
         */
        post: operations["markRead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/notifications/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your new notifications, live, over a WebSocket
         * @description A WebSocket (RFC 6455). Each new notification arrives as one text message holding a Notification as JSON. A NotificationsChanged message says the list changed in a way no new item shows (marked read in another tab or on another device, or a cancelled friend request taken back): read the count and the first page again. The client sends nothing. The server pings every 20 s; a client that falls 64 messages behind is dropped, and on shutdown every client is told to go away (1001) and should reconnect and refetch the list. A browser's Origin must name this site.
         */
        get: operations["notificationStream"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description A bare address (name@example.com) as the event contract's $defs/email (events/schemas/defs.v1.json) defines it; at most 254 characters. */
        Email: string;
        /** @description In characters; argon2id is slow on purpose, so the length is bounded. */
        Password: string;
        /** @description A display name, in characters; no control characters. */
        Name: string;
        /** @description In characters; no control characters other than line breaks and tabs. Empty only in a post with a picture. */
        PostText: string;
        /** @description Words that start words of a name, or a whole email address; in characters; plain text. */
        SearchQuery: string;
        /** @default 20 */
        PageLimit: number;
        /** @description A PNG, JPEG, GIF or WebP picture of at most 40 megapixels; maxLength counts bytes (10 MiB). */
        Picture: string;
        MarkReadIds: string[];
        /** @description Opaque; pass back the nextCursor a list gave. */
        Cursor: string;
        /** Format: uuid */
        Id: string;
        /** @description Where the picture is served (GET /api/files/{id}). */
        PictureSrc: string;
        /**
         * Format: date-time
         * @description RFC 3339, UTC.
         */
        Timestamp: string;
        /** @description The cursor of the next page, or null on the last one. */
        NextCursor: string | null;
        /** @description RFC 9457 problem details. */
        Problem: {
            /**
             * Format: uri
             * @description https://tidings.dev/problems/<slug> from the functions, about:blank from the platform.
             */
            type: string;
            title: string;
            status: number;
            detail?: string;
            errors?: components["schemas"]["FieldError"][];
        };
        FieldError: {
            /** @description The request field at fault: a JSON key, query parameter or form field. */
            field: string;
            /** @description What is wrong with it, to follow the field name: "is required". */
            detail: string;
        };
        /** @description Unknown fields are a 400. */
        SignupRequest: {
            email: components["schemas"]["Email"];
            password: components["schemas"]["Password"];
            name: components["schemas"]["Name"];
        };
        /** @description Unknown fields are a 400; an empty field is a 400 naming it. */
        LoginRequest: {
            email: string;
            password: string;
        };
        NewFriendRequest: {
            /** @description Whom to ask; not yourself. */
            userId: string;
        };
        /** @description Text, a picture or both; not neither (400 naming text). Blank text counts as none. */
        NewPost: {
            text?: components["schemas"]["PostText"];
            /**
             * Format: uuid
             * @description The id of a picture you uploaded; null is the same as absent.
             */
            fileId?: string | null;
        };
        PictureUpload: {
            file: components["schemas"]["Picture"];
        };
        /** @description Either the ids to mark read or all. */
        MarkRead: {
            ids: components["schemas"]["MarkReadIds"];
        } | {
            /** @constant */
            all: true;
        };
        /** @description You, as signup, login and me show you. */
        User: {
            id: components["schemas"]["Id"];
            email: components["schemas"]["Email"];
            name: components["schemas"]["Name"];
        };
        /** @description Another user, as the API shows them. */
        Person: {
            id: components["schemas"]["Id"];
            name: components["schemas"]["Name"];
        };
        /**
         * @description outgoing - you asked them; incoming - they asked you.
         * @enum {string}
         */
        Relation: "none" | "outgoing" | "incoming" | "friends";
        /** @description A person as anyone signed in may see them (search results, a stranger's profile). Namesakes are told apart by friends in common and the month they joined; no part of their email is ever shown. */
        PersonCard: {
            id: components["schemas"]["Id"];
            name: components["schemas"]["Name"];
            relation: components["schemas"]["Relation"];
            /** @description How many of your friends are also theirs. */
            mutualFriends: number;
            /** @description The month they signed up (UTC), YYYY-MM. */
            joined: string;
        };
        UserSearch: {
            users: components["schemas"]["PersonCard"][];
        };
        FriendRequest: {
            id: components["schemas"]["Id"];
            from: components["schemas"]["Person"];
            to: components["schemas"]["Person"];
            /** @enum {string} */
            status: "pending" | "accepted";
        };
        FriendRequests: {
            incoming: components["schemas"]["FriendRequest"][];
            outgoing: components["schemas"]["FriendRequest"][];
        };
        Friends: {
            friends: components["schemas"]["Person"][];
        };
        Image: {
            src: components["schemas"]["PictureSrc"];
        };
        Post: {
            id: components["schemas"]["Id"];
            author: components["schemas"]["Person"];
            text: components["schemas"]["PostText"];
            image?: components["schemas"]["Image"];
            createdAt: components["schemas"]["Timestamp"];
        };
        PostPage: {
            posts: components["schemas"]["Post"][];
            nextCursor: components["schemas"]["NextCursor"];
        };
        AuthorPostPage: {
            user: components["schemas"]["Person"];
            posts: components["schemas"]["Post"][];
            nextCursor: components["schemas"]["NextCursor"];
        };
        UploadedPicture: {
            id: components["schemas"]["Id"];
            src: components["schemas"]["PictureSrc"];
        };
        /** @enum {string} */
        NotificationType: "friend.requested" | "friend.accepted" | "post.created";
        /** @description One notification, as the list shows it and as the live stream carries it. */
        Notification: {
            id: components["schemas"]["Id"];
            type: components["schemas"]["NotificationType"];
            actor: components["schemas"]["Person"];
            /** @description Present for post.created only. */
            postId?: components["schemas"]["Id"];
            /** @description Ready to show: "Ann posted". */
            text: string;
            read: boolean;
            createdAt: components["schemas"]["Timestamp"];
        };
        /** @description The other message of the live stream (GET /api/notifications/stream). */
        NotificationsChanged: {
            /**
             * @description read - marked read elsewhere; removed - taken back.
             * @enum {string}
             */
            changed: "read" | "removed";
        };
        NotificationPage: {
            notifications: components["schemas"]["Notification"][];
            nextCursor: components["schemas"]["NextCursor"];
            /** @description How many of all your notifications are unread. */
            unread: number;
        };
    };
    responses: {
        /** @description The input is invalid; `errors` names each bad field (or the body is not the JSON or multipart asked for; or an uploaded picture is truncated, corrupt, or only starts like a picture). */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description No valid session (or, for login, the email and password do not match an account). */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description An unsafe request without `X-Requested-With`, or one a browser marked cross-site or same-site; for the live stream, an Origin from another site. */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Nothing you may see has this id. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The change clashes with what exists (an email already registered, a request already pending, already friends). */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The body is over the operation's size limit. */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The body is not of the media type the operation reads (or an upload is not a PNG, JPEG, GIF or WebP picture, or a variant that cannot be decoded, such as an animated WebP or an arithmetic-coded JPEG). */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Type picture-too-large, naming `file`: the picture's header claims more pixels than its kind may have (a decompression bomb is refused here, before decoding; `detail` gives its size and the limit), or re-encoded it would be over 30 MiB. */
        PictureTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Over a limit (failed logins per account, signups per client address, searches or friend requests per account, live sockets per user); wait Retry-After seconds. */
        TooManyRequests: {
            headers: {
                /** @description Whole seconds. */
                "Retry-After": string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The function failed (the cause is logged, not shown), or the gateway caught a crash. */
        Internal: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The platform could not get an answer from the function. */
        BadGateway: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description A backing service is down (functions send Retry-After: 2), or the platform has the function stopped or overloaded. Try again; a session is not lost because of it. */
        Unavailable: {
            headers: {
                /** @description Whole seconds. */
                "Retry-After"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The function did not answer within its timeout. */
        GatewayTimeout: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The answer of signup, session and inbox to a method their path does not list (Go's router). Not part of any operation: OpenAPI describes responses per method. */
        MethodNotAllowed: {
            headers: {
                Allow: string;
                [name: string]: unknown;
            };
            content: {
                "text/plain": "Method Not Allowed\n";
            };
        };
    };
    parameters: {
        /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
        Csrf: "tidings";
        /** @description The nextCursor of the previous page; absent or empty for the first page. */
        Cursor: components["schemas"]["Cursor"];
        /** @description How many items a page holds. */
        Limit: components["schemas"]["PageLimit"];
        /** @description The friend request's id. */
        RequestId: string;
    };
    requestBodies: never;
    headers: {
        /** @description tidings_session=<token>; Path=/; Max-Age=<absolute timeout>; HttpOnly; SameSite=Lax (and Secure unless the site is localhost). */
        SessionCookie: string;
        /** @description The picture's id, quoted. */
        PictureETag: string;
        /** @description The viewer's browser may keep it a while; no shared cache ever (who may see it depends on the session). */
        PictureCacheControl: "private, max-age=600";
    };
    pathItems: never;
}
export type Email = components['schemas']['Email'];
export type Password = components['schemas']['Password'];
export type Name = components['schemas']['Name'];
export type PostText = components['schemas']['PostText'];
export type SearchQuery = components['schemas']['SearchQuery'];
export type PageLimit = components['schemas']['PageLimit'];
export type Picture = components['schemas']['Picture'];
export type MarkReadIds = components['schemas']['MarkReadIds'];
export type Cursor = components['schemas']['Cursor'];
export type Id = components['schemas']['Id'];
export type PictureSrc = components['schemas']['PictureSrc'];
export type Timestamp = components['schemas']['Timestamp'];
export type NextCursor = components['schemas']['NextCursor'];
export type Problem = components['schemas']['Problem'];
export type FieldError = components['schemas']['FieldError'];
export type SignupRequest = components['schemas']['SignupRequest'];
export type LoginRequest = components['schemas']['LoginRequest'];
export type NewFriendRequest = components['schemas']['NewFriendRequest'];
export type NewPost = components['schemas']['NewPost'];
export type PictureUpload = components['schemas']['PictureUpload'];
export type MarkRead = components['schemas']['MarkRead'];
export type User = components['schemas']['User'];
export type Person = components['schemas']['Person'];
export type Relation = components['schemas']['Relation'];
export type PersonCard = components['schemas']['PersonCard'];
export type UserSearch = components['schemas']['UserSearch'];
export type FriendRequest = components['schemas']['FriendRequest'];
export type FriendRequests = components['schemas']['FriendRequests'];
export type Friends = components['schemas']['Friends'];
export type Image = components['schemas']['Image'];
export type Post = components['schemas']['Post'];
export type PostPage = components['schemas']['PostPage'];
export type AuthorPostPage = components['schemas']['AuthorPostPage'];
export type UploadedPicture = components['schemas']['UploadedPicture'];
export type NotificationType = components['schemas']['NotificationType'];
export type Notification = components['schemas']['Notification'];
export type NotificationsChanged = components['schemas']['NotificationsChanged'];
export type NotificationPage = components['schemas']['NotificationPage'];
export type ResponseBadRequest = components['responses']['BadRequest'];
export type ResponseUnauthorized = components['responses']['Unauthorized'];
export type ResponseForbidden = components['responses']['Forbidden'];
export type ResponseNotFound = components['responses']['NotFound'];
export type ResponseConflict = components['responses']['Conflict'];
export type ResponseTooLarge = components['responses']['TooLarge'];
export type ResponseUnsupportedMediaType = components['responses']['UnsupportedMediaType'];
export type ResponsePictureTooLarge = components['responses']['PictureTooLarge'];
export type ResponseTooManyRequests = components['responses']['TooManyRequests'];
export type ResponseInternal = components['responses']['Internal'];
export type ResponseBadGateway = components['responses']['BadGateway'];
export type ResponseUnavailable = components['responses']['Unavailable'];
export type ResponseGatewayTimeout = components['responses']['GatewayTimeout'];
export type ResponseMethodNotAllowed = components['responses']['MethodNotAllowed'];
export type ParameterCsrf = components['parameters']['Csrf'];
export type ParameterCursor = components['parameters']['Cursor'];
export type ParameterLimit = components['parameters']['Limit'];
export type ParameterRequestId = components['parameters']['RequestId'];
export type HeaderSessionCookie = components['headers']['SessionCookie'];
export type HeaderPictureETag = components['headers']['PictureETag'];
export type HeaderPictureCacheControl = components['headers']['PictureCacheControl'];
export type $defs = Record<string, never>;
export interface operations {
    signup: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description At most 16 KiB. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["SignupRequest"];
            };
        };
        responses: {
            /** @description The new user, logged in. */
            201: {
                headers: {
                    /** @description /api/me */
                    Location: "/api/me";
                    "Set-Cookie": components["headers"]["SessionCookie"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    login: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description At most 16 KiB. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /** @description Logged in. */
            200: {
                headers: {
                    "Set-Cookie": components["headers"]["SessionCookie"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Logged out. */
            204: {
                headers: {
                    /** @description Clears tidings_session (Max-Age=0). */
                    "Set-Cookie": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            403: components["responses"]["Forbidden"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The logged-in user. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    searchUsers: {
        parameters: {
            query: {
                q: components["schemas"]["SearchQuery"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The people found. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserSearch"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    person: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The person's user id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The person. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PersonCard"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    userPosts: {
        parameters: {
            query?: {
                /** @description The nextCursor of the previous page; absent or empty for the first page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description How many items a page holds. */
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path: {
                /** @description The person's user id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of the person's posts. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthorPostPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    friendRequests: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Pending requests to you (incoming) and from you (outgoing). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FriendRequests"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    sendFriendRequest: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description At most 4 KiB. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewFriendRequest"];
            };
        };
        responses: {
            /** @description The request, pending or (if they had asked first) accepted. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FriendRequest"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    acceptFriendRequest: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path: {
                /** @description The friend request's id. */
                id: components["parameters"]["RequestId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The accepted request; you are friends now. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FriendRequest"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    declineFriendRequest: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path: {
                /** @description The friend request's id. */
                id: components["parameters"]["RequestId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Declined. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    cancelFriendRequest: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path: {
                /** @description The friend request's id. */
                id: components["parameters"]["RequestId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    friends: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every friend. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Friends"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    unfriend: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path: {
                /** @description The friend's user id. */
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description No longer friends. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    feed: {
        parameters: {
            query?: {
                /** @description The nextCursor of the previous page; absent or empty for the first page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description How many items a page holds. */
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of the feed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PostPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    createPost: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description At most 31,024 bytes (5000 characters, each at most a 6-byte \u escape, and framing). */
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewPost"];
            };
        };
        responses: {
            /** @description The post. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Post"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The post's id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The post. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Post"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    uploadPicture: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description The file plus at most 64 KiB of multipart framing and other fields. */
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["PictureUpload"];
            };
        };
        responses: {
            /** @description The stored picture. */
            201: {
                headers: {
                    /** @description The picture's src. */
                    Location: components["schemas"]["PictureSrc"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadedPicture"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["PictureTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    picture: {
        parameters: {
            query?: never;
            header?: {
                /** @description An ETag this answer gave earlier. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description The picture's id. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The picture, sandboxed and never sniffed. */
            200: {
                headers: {
                    ETag: components["headers"]["PictureETag"];
                    "Cache-Control": components["headers"]["PictureCacheControl"];
                    Vary: "Cookie";
                    "X-Content-Type-Options": "nosniff";
                    "Content-Security-Policy": "default-src 'none'; sandbox";
                    "Content-Disposition": "inline";
                    [name: string]: unknown;
                };
                content: {
                    "image/png": unknown;
                    "image/jpeg": unknown;
                    "image/gif": unknown;
                    "image/webp": unknown;
                };
            };
            /** @description The copy the browser has is current. */
            304: {
                headers: {
                    ETag: components["headers"]["PictureETag"];
                    "Cache-Control": components["headers"]["PictureCacheControl"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    notifications: {
        parameters: {
            query?: {
                /** @description The nextCursor of the previous page; absent or empty for the first page. */
                cursor?: components["parameters"]["Cursor"];
                /** @description How many items a page holds. */
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of notifications. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    markRead: {
        parameters: {
            query?: never;
            header: {
                /** @description Every unsafe method must carry it; a cross-site page cannot add it without a CORS preflight, which Tidings never grants. */
                "X-Requested-With": components["parameters"]["Csrf"];
            };
            path?: never;
            cookie?: never;
        };
        /** @description At most 16 KiB. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["MarkRead"];
            };
        };
        responses: {
            /** @description Marked read. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    notificationStream: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The WebSocket is open. */
            101: {
                headers: {
                    Upgrade: "websocket";
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not a valid WebSocket handshake (version or key); plain text from the WebSocket library. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            /** @description Not a WebSocket upgrade request; plain text from the WebSocket library. */
            426: {
                headers: {
                    Upgrade: "websocket";
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            429: components["responses"]["TooManyRequests"];
            /** @description The connection could not be taken over (plain text), or the platform's problem. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            502: components["responses"]["BadGateway"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
}
type FlattenedDeepRequired<T> = {
    [K in keyof T]-?: FlattenedDeepRequired<T[K] extends unknown[] | undefined | null ? Extract<T[K], unknown[]>[number] : T[K]>;
};
type ReadonlyArray<T> = [
    Exclude<T, undefined>
] extends [
    unknown[]
] ? Readonly<Exclude<T, undefined>> : Readonly<Exclude<T, undefined>[]>;
export const relationValues: ReadonlyArray<FlattenedDeepRequired<components>["schemas"]["Relation"]> = ["none", "outgoing", "incoming", "friends"];
export const friendRequestStatusValues: ReadonlyArray<FlattenedDeepRequired<components>["schemas"]["FriendRequest"]["status"]> = ["pending", "accepted"];
export const notificationTypeValues: ReadonlyArray<FlattenedDeepRequired<components>["schemas"]["NotificationType"]> = ["friend.requested", "friend.accepted", "post.created"];
export const notificationsChangedChangedValues: ReadonlyArray<FlattenedDeepRequired<components>["schemas"]["NotificationsChanged"]["changed"]> = ["read", "removed"];
