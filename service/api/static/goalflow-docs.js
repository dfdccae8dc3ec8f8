// Starts Swagger UI on the app's own OpenAPI document. A file of its own: the CSP allows no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no calls to an outside validator
    withCredentials: true,
  });
});
