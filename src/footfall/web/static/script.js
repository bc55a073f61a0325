/*
 * footfall's tracker: <script defer data-domain="example.com" src="https://STATS/script.js">
 *
 * Sends Plausible's Events API body, {n, u, d, r, p?, h?}, as text/plain to
 * POST {data-api, or this script's origin + /api/event}. No cookies, no
 * localStorage or sessionStorage, no identifiers: the server derives a daily
 * visitor hash on its side.
 *
 * Attributes of the <script> tag:
 *   data-domain            site to record events in (default: location.hostname)
 *   data-api               endpoint URL (default: script origin + /api/event)
 *   data-hash              hash-based routing: a pageview on every hashchange, h: 1
 *   data-outbound-links    'Outbound Link: Click' {url} for links to other hosts
 *   data-file-downloads    'File Download' {url} for links to files
 *   data-file-types        comma-separated extensions replacing the default list
 *   data-allow-localhost   also send from localhost, 127.x, [::1] and file:
 *
 * Custom events: footfall('Signup', {props: {plan: 'pro'}, callback: fn}).
 * Calls made before this script runs are queued by the snippet
 *   window.footfall = window.footfall || function () {
 *     (window.footfall.q = window.footfall.q || []).push(arguments) }
 * and replayed here. Do Not Track (navigator.doNotTrack '1') sends nothing.
 *
 * Served minified as script.min.js: run scripts/build-tracker.sh after editing.
 */
;(function (window, document) {
  'use strict'
  var location = window.location
  var navigator = window.navigator
  var script =
    document.currentScript || document.querySelector('script[src*="/script"][src$=".js"]')
  if (!script) return

  function flag(name) {
    return script.hasAttribute('data-' + name)
  }

  var endpoint = script.getAttribute('data-api') || new URL(script.src).origin + '/api/event'
  var domain = script.getAttribute('data-domain') || location.hostname
  var hashMode = flag('hash')
  var fileTypes = (
    script.getAttribute('data-file-types') ||
    'pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,mp4,mpeg,wmv,midi,mp3,wav,wma'
  ).split(',')

  function ignored() {
    var dnt = navigator.doNotTrack || window.doNotTrack
    return (
      dnt == '1' ||
      dnt == 'yes' ||
      (!flag('allow-localhost') &&
        (/^localhost$|^127(\.\d+){0,2}\.\d+$|^\[::1?\]$/.test(location.hostname) ||
          location.protocol == 'file:'))
    )
  }

  function track(name, options) {
    options = options || {}
    var callback = options.callback || function () {}
    if (ignored()) return callback()
    var body = { n: name, u: options.u || location.href, d: domain, r: document.referrer || null }
    if (options.props) body.p = options.props
    if (options.interactive === false) body.i = false
    if (hashMode) body.h = 1
    if (!window.fetch) return callback()
    fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(body),
      keepalive: true,
      credentials: 'omit'
    }).then(callback, callback)
  }

  // Outbound links and file downloads: one listener, opt-in through the attributes.
  function onClick(event) {
    if (event.type == 'auxclick' && event.button != 1) return
    var link = event.target.closest && event.target.closest('a[href]')
    if (!link) return
    var url = link.href.split(/[?#]/)[0]
    var name
    if (flag('outbound-links') && link.host && link.host != location.host) {
      name = 'Outbound Link: Click'
      url = link.href
    } else if (flag('file-downloads') && fileTypes.indexOf(url.split('.').pop().toLowerCase()) >= 0) {
      name = 'File Download'
    } else return
    // Same-window navigation waits (up to 5 s) for the event to be sent.
    var follow =
      event.type == 'click' &&
      !event.defaultPrevented &&
      !(event.ctrlKey || event.metaKey || event.shiftKey) &&
      (!link.target || /^_(self|parent|top)$/i.test(link.target))
    var followed
    function go() {
      if (!followed) location.href = link.href
      followed = 1
    }
    track(name, { props: { url: url }, callback: follow ? go : 0 })
    if (follow) {
      event.preventDefault()
      setTimeout(go, 5000)
    }
  }
  document.addEventListener('click', onClick)
  document.addEventListener('auxclick', onClick)

  var queue = (window.footfall && window.footfall.q) || []
  window.footfall = track
  for (var i = 0; i < queue.length; i++) track.apply(null, queue[i])

  // Pageviews: on load, and on SPA navigation (pushState and popstate, or hashchange).
  var lastPath
  function page() {
    if (!hashMode && lastPath == location.pathname) return
    lastPath = location.pathname
    track('pageview')
  }
  if (hashMode) {
    window.addEventListener('hashchange', page)
  } else {
    var history = window.history
    var pushState = history.pushState
    history.pushState = function () {
      pushState.apply(this, arguments)
      page()
    }
    window.addEventListener('popstate', page)
  }
  if (document.visibilityState == 'prerender') {
    document.addEventListener('visibilitychange', function () {
      if (!lastPath && document.visibilityState == 'visible') page()
    })
  } else page()
})(window, document)
