"""Reading the shared mailbox through Microsoft Graph: a delta query on the inbox, raw MIME through $value.

The delta query reports *changes* since its last link: new messages, changed ones, and ones removed
(moved or deleted, our own moves included). The reader folds them into the set of messages known to
wait in the inbox, and keeps that set and the delta link in TransportState, so a restart resumes
where it stopped: a message reported once but not yet dealt with is still offered after a crash,
and nothing is fetched from the beginning again. A delta link the server no longer knows (410 Gone)
starts a full sync, whose answer replaces the set. A message that is gone when fetched (moved by a
person meanwhile, which changes its id) is skipped.
"""
import json
import logging
import time
from datetime import datetime, timezone
from typing import Callable, Iterator
from urllib.parse import quote

from core.errors import PermanentFailure, TemporaryFailure, TransportError
from core.graph import GraphClient, error_of
from inbox.mailbox import Incoming, TransportState

log = logging.getLogger("auditmail.graph")
DELTA_LINK, WAITING = "graph.delta_link", "graph.waiting"
PERMISSION = "Mail.ReadWrite"
PAGE_SIZE = 50
CHECK_SECONDS = 10  # wait_for_mail's look for new mail: 60 requests in 10 minutes, far below the 10,000 allowed


class GraphReader:
    """The inbox of one mailbox through Graph; handled mail moves to the processed and failed folders."""

    def __init__(self, client: GraphClient, state: TransportState, processed_folder: str, failed_folder: str,
                 sleep: Callable[[float], None] = time.sleep):
        self._client, self._state, self._sleep = client, state, sleep
        self._folders = {"processed": processed_folder, "failed": failed_folder}
        self._folder_ids: dict[str, str] = {}
        self._waiting: dict[str, str] | None = None  # message id -> receivedDateTime, as last reported

    def waiting(self) -> Iterator[Incoming]:
        """The messages still in the inbox, oldest receivedDateTime first, each with its raw MIME."""
        self._sync()
        for received, message_id in sorted((_instant(r), i) for i, r in self._known().items()):
            raw = self._fetch(message_id)
            if raw is None:
                log.info("graph message gone before it was read; skipped")
                self._forget(message_id)
                continue
            yield Incoming(raw, received, message_id)

    def processed(self, message: Incoming) -> None:
        """Move a handled message to the processed folder."""
        self._move(message.handle, "processed")

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled to the failed folder; the reason is in the log and the ledger."""
        self._move(message.handle, "failed")

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Look for new mail every CHECK_SECONDS until some arrives, `seconds` pass, or `should_stop()`.

        Graph's push notifications need a public HTTPS endpoint, which a council's server seldom has;
        a delta query is cheap. Time is counted in the steps slept, so a frozen test clock cannot hang it.
        """
        before, remaining, since_check = set(self._known()), seconds, 0.0
        while remaining > 0 and not should_stop():
            step = min(0.5, remaining)
            self._sleep(step)
            remaining, since_check = remaining - step, since_check + step
            if since_check >= CHECK_SECONDS:
                since_check = 0.0
                try:
                    self._sync()
                except TransportError as exc:
                    log.warning("graph check for new mail failed: %s", exc.message, exc_info=log.isEnabledFor(logging.DEBUG))
                    return  # the pass that follows says what is wrong
                if set(self._known()) - before:
                    return

    def folders(self) -> dict[str, int]:
        """The inbox, processed and failed folders and how many messages each holds (for `doctor`)."""
        counts = {"inbox": self._count("inbox")}
        for role, name in self._folders.items():
            counts[name] = self._count(self._folder_id(role))
        return counts

    # --- the delta query -----------------------------------------------------------------------

    def _sync(self) -> None:
        """Fold the changes since the stored delta link into the waiting set; store both."""
        link = self._state.get(DELTA_LINK)
        changes, new_link = self._changes(link) if link else ({}, None)
        full = new_link is None
        if full:  # no link yet, or the server forgot it (410): read the whole inbox
            changes, new_link = self._full_read()
        waiting = {} if full else dict(self._known())
        for message_id, received in changes.items():
            if received is None:
                waiting.pop(message_id, None)
            else:
                waiting[message_id] = received
        self._waiting = waiting
        # The set first, then the link: a crash between the two replays some changes, which is harmless.
        self._state.put(WAITING, json.dumps(waiting, sort_keys=True))
        self._state.put(DELTA_LINK, new_link)

    def _full_read(self) -> tuple[dict[str, str | None], str]:
        for _ in range(2):  # a next link can expire (410) while the pages are read: start once more
            changes, link = self._changes(None)
            if link is not None:
                return changes, link
        raise TemporaryFailure("Microsoft Graph lost its sync state twice while the inbox was read in full "
                               "(410 Gone); it is read again at the next pass")

    def _changes(self, link: str | None) -> tuple[dict[str, str | None], str | None]:
        """Every page of one delta round: id -> receivedDateTime (None when removed), and the next delta link."""
        url = link or "/mailFolders/inbox/messages/delta?$select=receivedDateTime"
        changes: dict[str, str | None] = {}
        while True:
            response = self._client.request("GET", url, permission=PERMISSION, allow=(410,),
                                            headers={"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
            if response.status_code == 410:  # SyncStateNotFound: on a delta link, or even a next link
                log.warning("graph sync state expired (410 Gone); reading the whole inbox again")
                return {}, None
            body = response.json()
            for item in body.get("value", []):
                if "@removed" in item:
                    changes[item["id"]] = None
                elif item.get("receivedDateTime"):
                    changes[item["id"]] = item["receivedDateTime"]
            if body.get("@odata.nextLink"):
                url = body["@odata.nextLink"]
            elif body.get("@odata.deltaLink"):
                return changes, body["@odata.deltaLink"]
            else:
                raise PermanentFailure("Microsoft Graph answered a delta query with neither a next nor a delta link")

    def _known(self) -> dict[str, str]:
        if self._waiting is None:
            try:
                stored = json.loads(self._state.get(WAITING) or "{}")
            except ValueError:
                stored = {}
            self._waiting = stored if isinstance(stored, dict) else {}
        return self._waiting

    def _forget(self, message_id: str) -> None:
        if self._known().pop(message_id, None) is not None:
            self._state.put(WAITING, json.dumps(self._waiting, sort_keys=True))

    # --- messages and folders ------------------------------------------------------------------

    def _fetch(self, message_id: str) -> bytes | None:
        response = self._client.request("GET", f"/messages/{quote(message_id, safe='')}/$value",
                                        permission=PERMISSION, allow=(404,))
        return None if response.status_code == 404 else response.content

    def _move(self, message_id: str, role: str) -> None:
        for _ in range(2):
            response = self._client.request(
                "POST", f"/messages/{quote(message_id, safe='')}/move", permission=PERMISSION, allow=(404,),
                json={"destinationId": self._folder_id(role)})
            if response.status_code != 404 or not self._exists(message_id):
                break  # moved, or already gone from the inbox (moved by a person, or before a crash)
            self._folder_ids.pop(role, None)  # the folder was deleted meanwhile: find or make it again
        else:
            raise PermanentFailure(f"cannot move a message to the {self._folders[role]} folder: "
                                   f"Microsoft Graph says it does not exist ({error_of(response)[0]})")
        self._forget(message_id)

    def _exists(self, message_id: str) -> bool:
        response = self._client.request("GET", f"/messages/{quote(message_id, safe='')}", permission=PERMISSION,
                                        allow=(404,), params={"$select": "id"})
        return response.status_code != 404

    def _folder_id(self, role: str) -> str:
        """The id of the processed or failed folder under the mailbox's root, created if missing."""
        if role not in self._folder_ids:
            name = self._folders[role]
            self._folder_ids[role] = self._find_folder(name) or self._create_folder(name)
        return self._folder_ids[role]

    def _find_folder(self, name: str) -> str | None:
        quoted = name.replace("'", "''")
        response = self._client.request(
            "GET", "/mailFolders/msgfolderroot/childFolders", permission=PERMISSION,
            params={"$filter": f"displayName eq '{quoted}'", "$select": "id,displayName"})
        found = [f["id"] for f in response.json().get("value", []) if f.get("displayName", "").lower() == name.lower()]
        return found[0] if found else None

    def _create_folder(self, name: str) -> str:
        response = self._client.request("POST", "/mailFolders/msgfolderroot/childFolders", permission=PERMISSION,
                                        allow=(409,), json={"displayName": name})
        if response.status_code == 409:  # made meanwhile (by a person, or another process)
            found = self._find_folder(name)
            if found:
                return found
            raise PermanentFailure(f"cannot create the folder {name!r}: Microsoft Graph says it exists but cannot find it")
        log.info("graph folder %r created under the mailbox root", name)
        return response.json()["id"]

    def _count(self, folder_id: str) -> int:
        response = self._client.request("GET", f"/mailFolders/{quote(folder_id, safe='')}", permission=PERMISSION,
                                        params={"$select": "displayName,totalItemCount"})
        return int(response.json().get("totalItemCount", 0))


def _instant(text: str) -> datetime:
    """Graph's receivedDateTime ("2026-12-31T23:58:00Z") as a tz-aware UTC instant."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
