"""The SP-API surface (Messaging, Solicitations, Uploads, LWA token): one framework, a module of handlers per API.

Errors follow SP-API: a JSON body {"errors": [{"code", "message", "details"}]} and the
x-amzn-RequestId header on every response, x-amzn-RateLimit-Limit once the caller is known.
Statuses: 400 invalid input (bad JSON, schema, unknown marketplace) and messages the policy refuses
for what they contain or ask (reason not available for this order, content not allowed, attachment
rules); 403 missing/invalid/expired token, and messages refused for whom they go to or who sends them
(buyer opted out of non-critical messages, seller's messaging restricted, daily cap); 404 an order
that is not the caller's or does not exist; 413 request larger than allowed; 415 body not JSON;
429 rate limit; 500 unexpected error; 503 database unavailable.
"""
