"""The fake Graph's mailbox routes, under /v1.0/users/{mailbox}: delta, $value, move, folders, sendMail.

Called with the fake's lock held, after the token, faults, mailbox and permission were checked.
Answers are shaped as Graph's are (ids, @odata links, error codes), as far as the adapter reads them.
"""
import binascii
import json
import re
from urllib.parse import quote

from servers.fake_graph import FakeMessage, _item
from servers.fake_graph_http import error

NOT_FOUND = (404, {}, error("ErrorItemNotFound", "The specified object was not found in the store."))


def graph_route(fake, method, rest, query, body, headers):
    """(status, headers, payload) for one mailbox request."""
    base = f"{fake.endpoint}/users/{quote(fake.mailbox)}"
    if method == "GET" and rest == "/mailFolders/inbox/messages/delta":
        return _delta(fake, base, query)
    match = re.fullmatch(r"/messages/([^/]+)(/\$value|/move)?", rest)
    if match:
        message = fake.messages.get(match.group(1))
        if message is None:
            return NOT_FOUND
        if method == "GET" and match.group(2) == "/$value":
            return 200, {}, message.raw
        if method == "GET" and not match.group(2):
            return 200, {}, {**_item(message), "parentFolderId": message.folder}
        if method == "POST" and match.group(2) == "/move":
            return _move(fake, message, json.loads(body or b"{}").get("destinationId", ""))
    if rest == "/mailFolders/msgfolderroot/childFolders":
        return _child_folders(fake, method, query, body)
    match = re.fullmatch(r"/mailFolders/([^/]+)", rest)
    if method == "GET" and match:
        folder_id = match.group(1)
        if folder_id not in fake.folders:
            return NOT_FOUND
        count = sum(1 for m in fake.messages.values() if m.folder == folder_id)
        return 200, {}, {"id": folder_id, "displayName": fake.folders[folder_id]["displayName"], "totalItemCount": count}
    if method == "POST" and rest == "/sendMail":
        if headers.get("Content-Type", "").split(";")[0].strip() != "text/plain":
            return 400, {}, error("ErrorInvalidRequest", "MIME content must be sent as text/plain, base64-encoded.")
        try:
            fake.store_sent(body)
        except (binascii.Error, ValueError):
            return 400, {}, error("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
        return 202, {}, None
    return 400, {}, error("BadRequest", f"Unsupported request {method} {rest}")


def _delta(fake, base, query):
    link = f"{base}/mailFolders/inbox/messages/delta"
    if "$skiptoken" in query:
        items, token = fake.pages.pop(query["$skiptoken"][0], (None, None))
        if items is None:
            return 400, {}, error("InvalidSkipToken", "The skip token is not valid.")
    else:
        since = None
        if "$deltatoken" in query:
            epoch, _, seq = query["$deltatoken"][0].partition(".")
            if int(epoch) != fake.sync_epoch:
                return 410, {}, error("SyncStateNotFound", "The sync state could not be found; restart the sync.")
            since = int(seq)
        items, token = fake.delta("inbox", since), f"{fake.sync_epoch}.{len(fake.changes)}"
    page, left = items[:fake.page_size], items[fake.page_size:]
    answer = {"@odata.context": f"{fake.endpoint}/$metadata#Collection(message)", "value": page}
    if left:
        key = fake.new_id("skip").strip("=")
        fake.pages[key] = (left, token)
        answer["@odata.nextLink"] = f"{link}?$skiptoken={key}"
    else:
        answer["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
    return 200, {}, answer


def _move(fake, message, destination):
    destination = destination if destination in fake.folders else None
    if destination is None:
        return NOT_FOUND
    # Exchange gives a moved message a new id; the old one is gone from its folder.
    del fake.messages[message.id]
    fake.changed(message)
    moved = FakeMessage(fake.new_id("msg"), message.raw, message.received, destination)
    fake.messages[moved.id] = moved
    fake.changed(moved)
    return 201, {}, {**_item(moved), "parentFolderId": destination}


def _child_folders(fake, method, query, body):
    if method == "GET":
        wanted = fake.filter_name(query.get("$filter", [""])[0])
        value = [{"id": fid, "displayName": f["displayName"]} for fid, f in fake.folders.items()
                 if f["parent"] == "msgfolderroot" and (wanted is None or f["displayName"].lower() == wanted.lower())]
        return 200, {}, {"value": value}
    name = json.loads(body or b"{}").get("displayName", "")
    if not name:
        return 400, {}, error("ErrorInvalidRequest", "displayName is required.")
    if fake.folder_named(name):
        return 409, {}, error("ErrorFolderExists", "A folder with the specified name already exists.")
    folder_id = fake.new_id("folder")
    fake.folders[folder_id] = {"displayName": name, "parent": "msgfolderroot"}
    return 201, {}, {"id": folder_id, "displayName": name, "parentFolderId": "msgfolderroot"}
