/*
 * dash_quart.components.EventSource: a Dash component around the browser's EventSource.
 * Plain ES5 and React.createElement-free (it renders nothing), served by Dash's component
 * suites; no build step.
 */
(function () {
    "use strict";

    var React = window.React;
    var MAX_BACKOFF_MS = 30000;
    var FIRST_BACKOFF_MS = 500;

    function parse(data) {
        try {
            return JSON.parse(data);
        } catch (e) {
            return data;
        }
    }

    function withLastEventId(url, lastEventId) {
        if (!lastEventId) {
            return url;
        }
        var separator = url.indexOf("?") >= 0 ? "&" : "?";
        return url + separator + "lastEventId=" + encodeURIComponent(lastEventId);
    }

    function EventSourceComponent(props) {
        var setProps = props.setProps;
        var url = props.url;
        var close = props.close;
        var withCredentials = Boolean(props.withCredentials);
        var eventsKey = JSON.stringify(props.events || []);
        var count = React.useRef(props.n_messages || 0);
        var lastId = React.useRef(props.lastEventId || null);
        var lastUrl = React.useRef(url);

        React.useEffect(function () {
            if (lastUrl.current !== url) {
                // A new stream: the previous one's event ids mean nothing to it.
                lastUrl.current = url;
                lastId.current = null;
            }
            if (close || !url) {
                setProps({readyState: 2});
                return undefined;
            }
            var names = JSON.parse(eventsKey);
            var source = null;
            var timer = null;
            var attempt = 0;
            var stopped = false;

            function onEvent(type) {
                return function (message) {
                    count.current += 1;
                    var update = {
                        message: parse(message.data),
                        event: type,
                        n_messages: count.current
                    };
                    if (message.lastEventId) {
                        lastId.current = message.lastEventId;
                        update.lastEventId = message.lastEventId;
                    }
                    setProps(update);
                };
            }

            function connect() {
                timer = null;
                source = new window.EventSource(withLastEventId(url, lastId.current), {
                    withCredentials: withCredentials
                });
                setProps({readyState: 0});
                source.onopen = function () {
                    attempt = 0;
                    setProps({readyState: 1, error: null});
                };
                source.onmessage = onEvent("message");
                names.forEach(function (name) {
                    if (name !== "message") {
                        source.addEventListener(name, onEvent(name));
                    }
                });
                source.onerror = function () {
                    // Reconnect ourselves, with capped exponential backoff and the last id.
                    source.close();
                    if (stopped) {
                        return;
                    }
                    var delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * Math.pow(2, attempt));
                    attempt += 1;
                    setProps({
                        readyState: 0,
                        error: {
                            reason: "connection lost or refused",
                            url: url,
                            attempt: attempt,
                            retry_in_ms: delay,
                            timestamp: Date.now()
                        }
                    });
                    timer = setTimeout(connect, delay);
                };
            }

            connect();
            return function () {
                stopped = true;
                if (timer !== null) {
                    clearTimeout(timer);
                }
                if (source !== null) {
                    source.close();
                }
            };
        }, [url, close, withCredentials, eventsKey]);

        return null;
    }

    EventSourceComponent.defaultProps = {
        events: null,
        withCredentials: false,
        close: false,
        n_messages: 0,
        readyState: 0
    };

    window.dash_quart = Object.assign(window.dash_quart || {}, {
        EventSource: EventSourceComponent
    });
})();
