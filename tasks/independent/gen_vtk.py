#!/usr/bin/env python3
"""Renders one random scene with VTK 9's OpenGL rasteriser (Debian's python3-vtk9), a renderer no
earlier set used: physically based shading (metallic, roughness) lit by an image-based environment
made from a photograph, which is also the background (a skybox), photographs as base-colour
textures on some objects and on the floor, screen-space ambient occlusion on some scenes, tone
mapping and FXAA, as a real-time engine draws a frame. Spheres, boxes, cylinders, cones, tori and
superquadrics stand on a floor (the placement of _scene.py). 512x512 PNG.

Usage: gen_vtk.py SEED OUT.png TEXTURE... (run under xvfb-run: VTK draws through an X display; on
this machine Mesa's llvmpipe). The same seed and textures give the same scene; the pixels are
Mesa's, the same on one machine run to run. The textures are whole photographs, chosen from the
list by the seed: build_fresh.sh passes the texture pool of tasks/production/textures.csv, which no
natural set of the fresh protocol holds."""
import math, random, sys

import vtk

from _scene import place

seed, out, textures = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
if not textures:
    sys.exit("gen_vtk.py: give the texture photographs after OUT.png")
r = random.Random(30_000 + seed)  # another stream than the other generators' for the same seed


def texture(path, srgb=True, mipmap=True):
    """A photograph as an OpenGL texture (sRGB colours, mipmapped, repeated)."""
    reader = vtk.vtkImageReader2Factory.CreateImageReader2(path)
    reader.SetFileName(path)
    reader.Update()
    t = vtk.vtkTexture()
    t.SetInputConnection(reader.GetOutputPort())
    t.SetUseSRGBColorSpace(srgb)
    t.SetMipmap(mipmap)
    t.InterpolateOn()
    t.RepeatOn()
    return t


def source():
    """A random shape: its polydata source, texture-mapped where a photograph may cover it."""
    kind = r.choice(["sphere", "box", "cylinder", "cone", "torus", "superquadric"])
    if kind == "sphere":
        s = vtk.vtkTexturedSphereSource()
        s.SetThetaResolution(96)
        s.SetPhiResolution(64)
        return s, 1.0
    if kind == "box":
        s = vtk.vtkCubeSource()
        return s, 1.0
    if kind == "cylinder":
        s = vtk.vtkCylinderSource()
        s.SetResolution(96)
        s.SetHeight(r.uniform(0.8, 2.0))
        return s, s.GetHeight() / 2
    if kind == "cone":
        s = vtk.vtkConeSource()
        s.SetResolution(96)
        s.SetDirection(0, 1, 0)
        return s, 0.5
    if kind == "torus":
        p = vtk.vtkParametricTorus()
        p.SetRingRadius(0.7)
        p.SetCrossSectionRadius(r.uniform(0.15, 0.35))
        s = vtk.vtkParametricFunctionSource()
        s.SetParametricFunction(p)
        s.SetUResolution(96)
        s.SetVResolution(48)
        s.GenerateTextureCoordinatesOn()
        return s, p.GetCrossSectionRadius()
    s = vtk.vtkSuperquadricSource()
    s.SetThetaResolution(96)
    s.SetPhiResolution(64)
    s.SetPhiRoundness(r.uniform(0.2, 1.5))
    s.SetThetaRoundness(r.uniform(0.2, 1.5))
    s.ToroidalOff()
    return s, 0.5


def tcoords(src):
    """Texture coordinates for a shape that has none (a sphere map around its centre)."""
    m = vtk.vtkTextureMapToSphere()
    m.SetInputConnection(src.GetOutputPort())
    m.PreventSeamOn()
    return m


ren = vtk.vtkRenderer()
win = vtk.vtkRenderWindow()
win.SetOffScreenRendering(1)
win.SetSize(512, 512)
win.SetMultiSamples(0)
win.AddRenderer(ren)

# the environment: a photograph as the light (image-based) and as the background
env = texture(r.choice(textures), mipmap=True)
ren.UseImageBasedLightingOn()
ren.SetEnvironmentTexture(env, True)
sky = vtk.vtkSkybox()
sky.SetTexture(env)
sky.SetProjectionToSphere()
sky.GammaCorrectOn()
if r.random() < 0.8:
    ren.AddActor(sky)
else:
    ren.SetBackground(*(r.uniform(0.2, 0.9) for _ in range(3)))
ren.UseSphericalHarmonicsOn()
ren.SetEnvironmentUp(0, 1, 0)
ren.SetEnvironmentRight(1, 0, 0)

# the floor: a photograph, tiled, or a plain PBR surface
floor = vtk.vtkPlaneSource()
floor.SetOrigin(-6, 0, -6)
floor.SetPoint1(6, 0, -6)
floor.SetPoint2(-6, 0, 6)
floor.SetResolution(8, 8)
tiles = r.uniform(1, 4)
scaled = vtk.vtkTransformTextureCoords()
scaled.SetInputConnection(floor.GetOutputPort())
scaled.SetScale(tiles, tiles, 1)
fm = vtk.vtkPolyDataMapper()
fm.SetInputConnection(scaled.GetOutputPort())
fa = vtk.vtkActor()
fa.SetMapper(fm)
fp = fa.GetProperty()
fp.SetInterpolationToPBR()
fp.SetRoughness(r.uniform(0.3, 0.95))
fp.SetMetallic(0.0)
if r.random() < 0.7:
    fp.SetBaseColorTexture(texture(r.choice(textures)))
else:
    fp.SetColor(*(r.uniform(0.2, 0.9) for _ in range(3)))
ren.AddActor(fa)

# the objects
placed = []
for _ in range(r.randint(2, 6)):
    x, z, size = place(r, placed)
    src, half = source()
    poly = src if isinstance(src, (vtk.vtkTexturedSphereSource, vtk.vtkPlaneSource)) else tcoords(src)
    normals = vtk.vtkPolyDataNormals()
    normals.SetInputConnection(poly.GetOutputPort())
    normals.SetFeatureAngle(50)
    m = vtk.vtkPolyDataMapper()
    m.SetInputConnection(normals.GetOutputPort())
    a = vtk.vtkActor()
    a.SetMapper(m)
    size *= 1.5
    a.SetScale(size, size, size)
    a.RotateY(r.uniform(0, 360))
    a.SetPosition(x, half * size, z)
    p = a.GetProperty()
    p.SetInterpolationToPBR()
    look = r.random()
    if look < 0.35:  # a photograph on it
        p.SetBaseColorTexture(texture(r.choice(textures)))
        p.SetMetallic(0.0)
        p.SetRoughness(r.uniform(0.2, 0.8))
    elif look < 0.65:  # metal
        p.SetColor(*(r.uniform(0.5, 1.0) for _ in range(3)))
        p.SetMetallic(1.0)
        p.SetRoughness(r.uniform(0.05, 0.5))
    else:  # painted or plastic
        p.SetColor(*(r.uniform(0.05, 0.95) for _ in range(3)))
        p.SetMetallic(0.0)
        p.SetRoughness(r.uniform(0.1, 0.9))
    ren.AddActor(a)

# a sun besides the environment, sometimes
if r.random() < 0.6:
    sun = vtk.vtkLight()
    sun.SetLightTypeToSceneLight()
    sun.SetPositional(False)
    sun.SetPosition(r.uniform(-5, 5), r.uniform(4, 9), r.uniform(-5, 5))
    sun.SetFocalPoint(0, 0, 0)
    sun.SetIntensity(r.uniform(0.5, 2.0))
    ren.AddLight(sun)
ren.AutomaticLightCreationOff()

# the camera: eye height, looking at the objects
cam = ren.GetActiveCamera()
ang, dist, h = r.uniform(0, 2 * math.pi), r.uniform(4.0, 7.0), r.uniform(0.8, 3.0)
cam.SetPosition(dist * math.cos(ang), h, dist * math.sin(ang))
cam.SetFocalPoint(r.uniform(-0.5, 0.5), r.uniform(0.2, 0.8), r.uniform(-0.5, 0.5))
cam.SetViewUp(0, 1, 0)
cam.SetViewAngle(r.uniform(30, 55))
ren.ResetCameraClippingRange()

# the passes: SSAO (sometimes), then tone mapping; FXAA at the end
basic = vtk.vtkRenderStepsPass()
last = basic
if r.random() < 0.5:
    ssao = vtk.vtkSSAOPass()
    ssao.SetDelegatePass(last)
    ssao.SetRadius(r.uniform(0.2, 0.8))
    ssao.SetKernelSize(128)
    ssao.BlurOn()
    last = ssao
tone = vtk.vtkToneMappingPass()
tone.SetToneMappingType(r.choice([vtk.vtkToneMappingPass.GenericFilmic, vtk.vtkToneMappingPass.Reinhard]))
tone.SetExposure(r.uniform(0.8, 1.6))
tone.SetDelegatePass(last)
ren.SetPass(tone)
ren.UseFXAAOn()

win.Render()
grab = vtk.vtkWindowToImageFilter()
grab.SetInput(win)
grab.SetInputBufferTypeToRGB()
grab.ReadFrontBufferOff()
grab.Update()
w = vtk.vtkPNGWriter()
w.SetFileName(out)
w.SetInputConnection(grab.GetOutputPort())
w.Write()
