// Generated from functions/apicontract/openapi.yaml by `npm run api:generate`. Do not edit.
// The API's field limits, by schema in components/schemas (and property, for objects).
export const limits = {
  Email: {
    minLength: 1,
    maxLength: 254
  },
  Password: {
    minLength: 8,
    maxLength: 128
  },
  Name: {
    minLength: 1,
    maxLength: 80
  },
  PostText: {
    maxLength: 5000
  },
  SearchQuery: {
    minLength: 1,
    maxLength: 80
  },
  PageLimit: {
    minimum: 1,
    maximum: 100,
    default: 20
  },
  Picture: {
    maxLength: 10485760
  },
  MarkReadIds: {
    minItems: 1,
    maxItems: 100
  },
  Problem: {
    title: {
      minLength: 1
    },
    status: {
      minimum: 400,
      maximum: 599
    }
  },
  LoginRequest: {
    email: {
      minLength: 1
    },
    password: {
      minLength: 1
    }
  },
  NewFriendRequest: {
    userId: {
      minLength: 1
    }
  },
  PersonCard: {
    mutualFriends: {
      minimum: 0
    }
  },
  UserSearch: {
    users: {
      maxItems: 20
    }
  },
  FriendRequests: {
    incoming: {
      maxItems: 500
    },
    outgoing: {
      maxItems: 500
    }
  },
  Notification: {
    text: {
      minLength: 1
    }
  },
  NotificationPage: {
    unread: {
      minimum: 0
    }
  }
} as const;
