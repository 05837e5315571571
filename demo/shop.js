/* Perso Shop's own script: catalog, product and cart pages, consent banner, tracking.
   Loaded with `defer`, after the perso snippet. The shop itself stores nothing: the
   cart travels in the URL, and the consent banner reads the choice perso keeps (which
   perso writes only once the visitor has accepted). */
(function () {
  "use strict";
  var CATALOG = {
    "sneaker-01": { title: "Runner Sneaker", price: 299.9, blurb: "Light mesh upper, cushioned sole, made for daily miles." },
    "sneaker-02": { title: "Trail Sneaker", price: 349.9, blurb: "Grippy lugs and a water-resistant upper for dirt paths." },
    "jacket-01": { title: "Rain Jacket", price: 459.0, blurb: "Sealed seams, packable hood, folds into its own pocket." },
    "tee-01": { title: "Organic Tee", price: 79.9, blurb: "Soft organic cotton, regular fit, garment dyed." },
    "cap-01": { title: "Canvas Cap", price: 59.9, blurb: "Washed canvas, six panels, adjustable strap." },
    "bag-01": { title: "Tote Bag", price: 119.0, blurb: "Heavy canvas tote with an inside zip pocket." }
  };
  var SITE = "demo-shop";

  function perso() { return window.perso || null; }
  function money(n) { return "R$ " + n.toFixed(2); }
  function query(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : null;
  }
  var cart = (query("items") || "").split(",").filter(function (id) { return CATALOG[id]; });

  function updateCartLinks() {
    var links = document.querySelectorAll("[data-cart-link]");
    for (var i = 0; i < links.length; i++) {
      links[i].textContent = links[i].getAttribute("data-cart-link") + " (" + cart.length + ")";
      links[i].href = "/cart.html" + (cart.length ? "?items=" + cart.join(",") : "");
    }
  }

  function addToCart(id) {
    cart.push(id);
    updateCartLinks();
    var p = perso();
    if (p) p.track("add_to_cart", { id: id, price: CATALOG[id].price, quantity: 1 });
    status(CATALOG[id].title + " added to your cart.");
  }

  function status(text) {
    var el = document.getElementById("cart-status");
    if (el) el.textContent = text;
  }

  function renderProduct() {
    var root = document.getElementById("product");
    if (!root) return;
    var id = CATALOG[query("id")] ? query("id") : "sneaker-01";
    var item = CATALOG[id];
    root.querySelector("img").src = "/img/" + id + ".jpg";
    root.querySelector("img").alt = item.title;
    root.querySelector("h1").textContent = item.title;
    root.querySelector(".price").textContent = money(item.price);
    root.querySelector(".blurb").textContent = item.blurb;
    root.querySelector("#add-to-cart").setAttribute("data-item", id);
    document.title = item.title + " · Perso Shop";
    var p = perso();
    if (p) p.track("view_item", { id: id });
  }

  function renderCart() {
    var body = document.getElementById("cart-lines");
    if (!body) return;
    var total = 0;
    cart.forEach(function (id) {
      var row = document.createElement("tr");
      var name = document.createElement("td");
      var price = document.createElement("td");
      name.textContent = CATALOG[id].title;
      price.textContent = money(CATALOG[id].price);
      row.appendChild(name);
      row.appendChild(price);
      body.appendChild(row);
      total += CATALOG[id].price;
    });
    document.getElementById("cart-total").textContent = money(total);
    document.getElementById("cart-empty").hidden = cart.length > 0;
  }

  function purchase() {
    var total = cart.reduce(function (sum, id) { return sum + CATALOG[id].price; }, 0);
    var p = perso();
    if (p) p.track("purchase", { value: Math.round(total * 100) / 100, items: cart.slice() });
    status("Thank you! Order placed (" + money(total) + ").");
  }

  // The checkout slot carries data, not markup: the page decides how to show it.
  function onDecision(detail) {
    var el = document.querySelector("[data-perso-slot=checkout]");
    var data = detail && detail.data && detail.data.checkout;
    if (!el) return;
    if (data && data.free_shipping_threshold) {
      el.textContent = "Frete grátis acima de " + (data.currency === "BRL" ? "R$ " : "") +
        data.free_shipping_threshold + ".";
    } else {
      el.textContent = "";
    }
  }

  function consentGiven() {
    try { return !!localStorage.getItem("perso:" + SITE + ":c"); } catch (e) { return false; }
  }

  function setConsent(granted) {
    var p = perso();
    if (p) p.consent({ analytics: granted, personalization: granted });
    document.getElementById("consent").hidden = true;
  }

  function wire() {
    var banner = document.getElementById("consent");
    if (banner) banner.hidden = consentGiven();
    document.addEventListener("click", function (ev) {
      var el = ev.target;
      if (!(el instanceof Element)) return;
      if (el.id === "consent-accept") setConsent(true);
      else if (el.id === "consent-decline") setConsent(false);
      else if (el.id === "privacy-choices") { ev.preventDefault(); banner.hidden = false; }
      else if (el.id === "add-to-cart") { ev.preventDefault(); addToCart(el.getAttribute("data-item")); }
      else if (el.id === "purchase") { ev.preventDefault(); purchase(); }
      else if (el.id === "cta" || el.closest("#cta")) { var p = perso(); if (p) p.track("click_cta", {}); }
    });
    var newsletter = document.getElementById("newsletter");
    if (newsletter) newsletter.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var p = perso();
      if (p) p.track("newsletter_signup", {});
      newsletter.querySelector("p").textContent = "Thanks! Check your inbox.";
    });
    var p = perso();
    if (p && typeof p.on === "function") p.on("decision", onDecision);
    renderProduct();
    renderCart();
    updateCartLinks();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
