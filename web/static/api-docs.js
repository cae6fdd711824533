// The API's interactive page (Swagger UI from the installed flask-openapi3-swagger
// package): started here rather than by an inline script, which the CSP refuses.
window.addEventListener("load", function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.specUrl, window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
});
