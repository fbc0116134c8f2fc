-- A friend request's notification names its request, so that a cancel
-- (dev.tidings.friend.cancelled.v1) can take back exactly that notification
-- (functions/notify). Rows stored before this have none; notify then matches
-- them by actor instead.
ALTER TABLE notifications ADD COLUMN request_id uuid;
