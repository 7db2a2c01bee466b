"""The fake EWS server's operations and the SOAP it answers with (shapes as Exchange 2016 sends them).

Each operation takes the fake, the request element and whether the caller impersonates, and returns the
response element's XML text. Per-message errors come back as Exchange sends them: ResponseClass="Error".
"""
import base64
from datetime import timezone
from xml.sax.saxutils import escape

M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
VERSION = ('<h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" '
           'MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"/>')


# --- SOAP shapes ---------------------------------------------------------------------------------

def envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP}"><s:Header>{VERSION}</s:Header>'
            f'<s:Body>{body}</s:Body></s:Envelope>').encode("utf-8")


def fault(code: str, text: str, back_off_ms: int | None = None) -> str:
    extra = (f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml>'
             if back_off_ms is not None else "")
    errors = "http://schemas.microsoft.com/exchange/services/2006/errors"
    return (f'<s:Fault><faultcode xmlns:a="{T}">a:{code}</faultcode><faultstring xml:lang="en-US">{escape(text)}'
            f'</faultstring><detail><e:ResponseCode xmlns:e="{errors}">{code}</e:ResponseCode>'
            f'<e:Message xmlns:e="{errors}">{escape(text)}</e:Message>{extra}</detail></s:Fault>')


def response(operation: str, messages: list[str]) -> str:
    return (f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>{"".join(messages)}'
            f'</m:ResponseMessages></m:{operation}Response>')


def ok(operation: str, inner: str = "") -> str:
    return (f'<m:{operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f'{inner}</m:{operation}ResponseMessage>')


def error(operation: str, code: str, text: str) -> str:
    return (f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(text)}</m:MessageText>'
            f'<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>'
            f'</m:{operation}ResponseMessage>')


def folder_xml(fake, folder) -> str:
    count = sum(1 for i in fake.items.values() if i.folder == folder.id)
    children = sum(1 for f in fake.folders.values() if f.parent == folder.id)
    parent = f'<t:ParentFolderId Id="{folder.parent}" ChangeKey="FCK"/>' if folder.parent else ""
    return (f'<t:Folder><t:FolderId Id="{folder.id}" ChangeKey="FCK"/>{parent}<t:FolderClass>IPF.Note</t:FolderClass>'
            f'<t:DisplayName>{escape(folder.name)}</t:DisplayName><t:TotalCount>{count}</t:TotalCount>'
            f'<t:ChildFolderCount>{children}</t:ChildFolderCount><t:UnreadCount>0</t:UnreadCount></t:Folder>')


def item_xml(item, fields: set[str]) -> str:
    mime = (f'<t:MimeContent CharacterSet="UTF-8">{base64.b64encode(item.mime).decode()}</t:MimeContent>'
            if "item:MimeContent" in fields else "")
    received = item.received.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    when = f"<t:DateTimeReceived>{received}</t:DateTimeReceived>" if "item:DateTimeReceived" in fields else ""
    return f'<t:Message>{mime}<t:ItemId Id="{item.id}" ChangeKey="{item.changekey}"/>{when}</t:Message>'


def streaming_notification(subscription: str, items) -> str:
    events = "".join(f'<t:NewMailEvent><t:TimeStamp>2026-01-01T00:00:00Z</t:TimeStamp><t:ItemId Id="{i.id}" '
                     f'ChangeKey="{i.changekey}"/><t:ParentFolderId Id="F-inbox" ChangeKey="FCK"/></t:NewMailEvent>'
                     for i in items)
    inner = (f'<m:Notifications><m:Notification><t:SubscriptionId>{subscription}</t:SubscriptionId>{events}'
             f'</m:Notification></m:Notifications><m:ConnectionStatus>OK</m:ConnectionStatus>')
    return response("GetStreamingEvents", [ok("GetStreamingEvents", inner)])


def streaming_closed() -> str:
    return response("GetStreamingEvents", [ok("GetStreamingEvents", "<m:ConnectionStatus>Closed</m:ConnectionStatus>")])


# --- reading requests ------------------------------------------------------------------------------

def folder_ids(fake, container, impersonating: bool) -> list:
    """The folders a FolderIds / ParentFolderIds / ToFolderId element names: (folder or None, error code or None)."""
    out = []
    for elem in container:
        tag = elem.tag.split("}")[1]
        if tag == "DistinguishedFolderId":
            mailbox = elem.find(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
            if mailbox is not None and mailbox.text.lower() != fake.mailbox:
                out.append((None, "ErrorNonExistentMailbox"))
            elif mailbox is not None and not impersonating and not fake.grants.full_access:
                out.append((None, "ErrorAccessDenied"))
            else:
                out.append((fake.folders.get(f"F-{elem.get('Id')}"), None))
        elif tag == "FolderId":
            out.append((fake.folders.get(elem.get("Id")), None))
    return [(f, code or (None if f else "ErrorFolderNotFound")) for f, code in out]


def requested_fields(request) -> set[str]:
    return {e.get("FieldURI") for e in request.iter(f"{{{T}}}FieldURI")}


# --- operations ----------------------------------------------------------------------------------

def convert_id(fake, request, impersonating):
    # exchangelib's version probe: any well-formed answer with a ServerVersionInfo header will do.
    return response("ConvertId", [error("ConvertId", "ErrorInvalidIdMalformed", "Id is malformed.")])


def get_folder(fake, request, impersonating):
    messages = []
    for folder, code in folder_ids(fake, request.find(f"{{{M}}}FolderIds"), impersonating):
        messages.append(error("GetFolder", code, code) if code else
                        ok("GetFolder", f"<m:Folders>{folder_xml(fake, folder)}</m:Folders>"))
    return response("GetFolder", messages)


def find_folder(fake, request, impersonating):
    messages = []
    for parent, code in folder_ids(fake, request.find(f"{{{M}}}ParentFolderIds"), impersonating):
        if code:
            messages.append(error("FindFolder", code, code))
            continue
        children = [f for f in fake.folders.values() if f.parent == parent.id]
        messages.append(ok("FindFolder", f'<m:RootFolder IndexedPagingOffset="{len(children)}" TotalItemsInView='
                                         f'"{len(children)}" IncludesLastItemInRange="true"><t:Folders>'
                                         f'{"".join(folder_xml(fake, f) for f in children)}</t:Folders></m:RootFolder>'))
    return response("FindFolder", messages)


def create_folder(fake, request, impersonating):
    [(parent, code)] = folder_ids(fake, request.find(f"{{{M}}}ParentFolderId"), impersonating)
    if code:
        return response("CreateFolder", [error("CreateFolder", code, code)])
    messages = []
    for elem in request.find(f"{{{M}}}Folders"):
        name = elem.find(f"{{{T}}}DisplayName").text
        if any(f.parent == parent.id and f.name == name for f in fake.folders.values()):
            messages.append(error("CreateFolder", "ErrorFolderExists", "A folder with the specified name already exists."))
            continue
        from servers.fake_ews import Folder

        folder = Folder(fake.new_id("F"), name, parent.id)
        fake.folders[folder.id] = folder
        messages.append(ok("CreateFolder", f'<m:Folders><t:Folder><t:FolderId Id="{folder.id}" ChangeKey="FCK"/>'
                                           f'</t:Folder></m:Folders>'))
    return response("CreateFolder", messages)


def find_item(fake, request, impersonating):
    view = request.find(f"{{{M}}}IndexedPageItemView")
    offset, limit = int(view.get("Offset", "0")), int(view.get("MaxEntriesReturned", "1000"))
    fields = requested_fields(request) | {"item:DateTimeReceived"}
    messages = []
    for folder, code in folder_ids(fake, request.find(f"{{{M}}}ParentFolderIds"), impersonating):
        if code:
            messages.append(error("FindItem", code, code))
            continue
        items = sorted((i for i in fake.items.values() if i.folder == folder.id), key=lambda i: i.received)
        sort = request.find(f"{{{M}}}SortOrder/{{{T}}}FieldOrder")
        if sort is not None and sort.get("Order") == "Descending":
            items.reverse()
        page = items[offset:offset + limit]
        last = offset + len(page) >= len(items)
        messages.append(ok("FindItem", f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}" TotalItemsInView='
                                       f'"{len(items)}" IncludesLastItemInRange="{str(last).lower()}"><t:Items>'
                                       f'{"".join(item_xml(i, fields - {"item:MimeContent"}) for i in page)}'
                                       f'</t:Items></m:RootFolder>'))
    return response("FindItem", messages)


def get_item(fake, request, impersonating):
    fields = requested_fields(request)
    messages = []
    for elem in request.find(f"{{{M}}}ItemIds"):
        item = fake.items.get(elem.get("Id"))
        messages.append(ok("GetItem", f"<m:Items>{item_xml(item, fields)}</m:Items>") if item else
                        error("GetItem", "ErrorItemNotFound", "The specified object was not found in the store."))
    return response("GetItem", messages)


def move_item(fake, request, impersonating):
    [(target, code)] = folder_ids(fake, request.find(f"{{{M}}}ToFolderId"), impersonating)
    messages = []
    for elem in request.find(f"{{{M}}}ItemIds"):
        item = fake.items.get(elem.get("Id"))
        if code or item is None:
            messages.append(error("MoveItem", code or "ErrorItemNotFound", "cannot move"))
            continue
        del fake.items[item.id]
        item.id, item.folder = fake.new_id("I"), target.id  # Exchange gives a moved item a new id
        fake.items[item.id] = item
        messages.append(ok("MoveItem", f'<m:Items><t:Message><t:ItemId Id="{item.id}" ChangeKey="CK2"/></t:Message>'
                                       f'</m:Items>'))
    return response("MoveItem", messages)


def create_item(fake, request, impersonating):
    from servers.fake_ews import Item, Sent, now_utc

    if not impersonating and not fake.grants.send_as:
        return response("CreateItem", [error("CreateItem", "ErrorSendAsDenied",
                                             "The user account which was used to submit this request does not have "
                                             "the right to send mail on behalf of the specified sending account.")])
    saved = request.find(f"{{{M}}}SavedItemFolderId")
    saved_to = None
    if saved is not None:
        [(folder, code)] = folder_ids(fake, saved, impersonating)
        if code:
            return response("CreateItem", [error("CreateItem", code, code)])
        saved_to = folder.id
    messages = []
    for message in request.find(f"{{{M}}}Items"):
        mime = base64.b64decode(message.find(f"{{{T}}}MimeContent").text)
        properties = {}
        for prop in message.findall(f"{{{T}}}ExtendedProperty"):
            uri = prop.find(f"{{{T}}}ExtendedFieldURI")
            key = uri.get("PropertyName") or uri.get("PropertyTag")
            properties[key] = (uri.get("DistinguishedPropertySetId"), uri.get("PropertyType"),
                               prop.find(f"{{{T}}}Value").text)
        fake.sent.append(Sent(mime, properties, request.get("MessageDisposition"), saved_to))
        if saved_to:
            item = Item(fake.new_id("I"), mime, now_utc(), saved_to)
            fake.items[item.id] = item
        messages.append(ok("CreateItem", "<m:Items/>"))
    return response("CreateItem", messages)


def subscribe(fake, request, impersonating):
    if not fake.streaming:
        return response("Subscribe", [error("Subscribe", "ErrorInvalidRequest", "Streaming is not available.")])
    return response("Subscribe", [ok("Subscribe", f"<m:SubscriptionId>{fake.subscribe()}</m:SubscriptionId>")])


def unsubscribe(fake, request, impersonating):
    return response("Unsubscribe", [ok("Unsubscribe")])


OPERATIONS = {"ConvertId": convert_id, "GetFolder": get_folder, "FindFolder": find_folder,
              "CreateFolder": create_folder, "FindItem": find_item, "GetItem": get_item, "MoveItem": move_item,
              "CreateItem": create_item, "Subscribe": subscribe, "Unsubscribe": unsubscribe}
