# The parametric Kalman filter for the 1-D Burgers equation dt(u) = kappa dxx(u) - u dx(u)
# (Pannekoucke, Bocquet and Menard 2018): the ensemble mean u, the variance V and the diffusion nu
# of the error, with the unknown closure of E[eps dx^4 eps] as a dxx(nu)/nu^2 + b/nu^2 + c dx(nu)^2/nu^3
# (theory: a, b, c = 1, 3/4, -2). Fit with
#   nowcast equation fit --data pkf.nc --equation @docs/equations/pkf-burgers.eq --coefficient kappa=0.0025 --train a=0 --train b=0 --train c=0
dt(u) = kappa*dxx(u) - u*dx(u) - dx(V)/2
dt(V) = -kappa*V/nu + kappa*dxx(V) - kappa*dx(V)^2/(2*V) - u*dx(V) - 2*V*dx(u)
dt(nu) = 4*kappa*nu^2*(a*dxx(nu)/nu^2 + b/nu^2 + c*dx(nu)^2/nu^3) - 3*kappa*dxx(nu) - kappa + 6*kappa*dx(nu)^2/nu - 2*kappa*nu*dxx(V)/V + kappa*dx(V)*dx(nu)/V + 2*kappa*nu*dx(V)^2/V^2 - u*dx(nu) + 2*nu*dx(u)
