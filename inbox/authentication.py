"""Whether the platform's own MTA vouches for the From address of a message (DMARC).

A From header is forgeable; a DMARC pass recorded by our MTA in an Authentication-Results header
(RFC 8601) says the From domain's owner sent it. Only headers whose authserv-id is in
INBOX_TRUSTED_AUTHSERV_IDS count, and of those only the topmost: our MTA prepends its header, so
anything below it came with the message and may have been written by the sender (RFC 8601 §5).
"""

from django.conf import settings


def _without_comments(value):
    """The header without its (nested) comments, quoted strings left intact (RFC 5322 §3.2.2)."""
    kept, depth, quoted, escaped = [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                kept.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                kept.append(char)
            continue
        if char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            continue
        elif not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            kept.append(char)
    return "".join(kept)


def _split_outside_quotes(value, separator):
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_results(value):
    """(authserv-id, [(method, result, {property: value})]) of one Authentication-Results
    header value; authserv-id lower-cased, methods and results too.
    """
    statements = _split_outside_quotes(" ".join(_without_comments(value).split()), ";")
    head = statements[0].split()
    authserv_id = head[0].strip('"').lower() if head else ""
    results = []
    for statement in statements[1:]:
        words = statement.split()
        if not words or "=" not in words[0]:
            continue  # "none", or a malformed result: nothing is vouched for
        method, result = words[0].split("=", 1)
        properties = {}
        for word in words[1:]:
            name, equals, property_value = word.partition("=")
            if equals:
                properties[name.lower()] = property_value.strip('"')
        results.append((method.split("/")[0].lower(), result.lower(), properties))
    return authserv_id, results


def trusted_results(message):
    """The results of the topmost Authentication-Results header written by a trusted
    authserv-id, or [] when there is none (or no authserv-id is trusted).
    """
    trusted = {authserv_id.lower() for authserv_id in settings.INBOX_TRUSTED_AUTHSERV_IDS}
    for value in message.get_all("Authentication-Results") or ():
        authserv_id, results = parse_results(str(value))
        if authserv_id in trusted:
            return results
    return []


def from_address(message):
    """The one address of the From header, lower-cased, or None (none, several, unparsable)."""
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if len(addresses) != 1 or not addresses[0].domain or not addresses[0].username:
        return None
    return addresses[0].addr_spec.lower()


def dmarc_verified_sender(message):
    """The From address when our MTA recorded a DMARC pass for its domain, else None.

    Every DMARC result the trusted header gives for the From domain must be a pass, and there
    must be one: a header that also records a failure for that domain vouches for nothing.
    """
    sender = from_address(message)
    if sender is None:
        return None
    domain = sender.rsplit("@", 1)[1]
    verdicts = [
        result
        for method, result, properties in trusted_results(message)
        if method == "dmarc" and properties.get("header.from", "").lower().rstrip(".") == domain
    ]
    if verdicts and all(verdict == "pass" for verdict in verdicts):
        return sender
    return None
