"""Running and presenting notebooks: the papermill runner, results, reports, banner, plots,
onboarding."""
