# tailhook runs the build with TAILHOOK_COMMIT, TAILHOOK_DELIVERY and
# TAILHOOK_SITE in the environment; make them available to templates as
# site.tailhook_commit etc. so every page says what it was built from.
Jekyll::Hooks.register :site, :after_init do |site|
  site.config["tailhook_commit"] = ENV.fetch("TAILHOOK_COMMIT", "unknown")
  site.config["tailhook_delivery"] = ENV.fetch("TAILHOOK_DELIVERY", "unknown")
end
