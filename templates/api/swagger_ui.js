"use strict";
// The portal's Swagger UI start-up (in place of drf-spectacular's): the token typed into the page's bar is sent with
// every request, the schema's included, from the first one on; a session needs nothing (same-origin cookies).
const hlhtSaved = (() => { try { return JSON.parse(localStorage.authorized || "{}"); } catch (e) { return {}; } })();
const hlhtToken = hlhtSaved.tokenAuth ? hlhtSaved.tokenAuth.value : null;

const ui = SwaggerUIBundle({
  url: "{{ schema_url|escapejs }}",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    if (hlhtToken && !request.headers["Authorization"]) {
      request.headers["Authorization"] = hlhtToken;
    }
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers["{{ csrf_header_name }}"] = "{{ csrf_token }}";
    }
    return request;
  },
  ...{{ settings|safe }},
});
